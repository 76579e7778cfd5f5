"""Django settings: everything comes from the environment, with defaults that run on one machine.

The embedded defaults need no server: SQLite (WAL) and a filesystem Celery broker in the data
directory, and e-mail to the SMTP catcher that `orderflow up` starts. Setting DATABASE_URL and
CELERY_BROKER_URL moves the same code onto PostgreSQL and Redis/RabbitMQ. See docs/configuration.md.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.utils.translation import gettext_lazy as _

from orderflow.config import (
    SettingError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_origin,
    env_path,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent

ENVIRONMENT = env_choice("ORDERFLOW_ENV", "development", ("development", "production"))
IS_PRODUCTION = ENVIRONMENT == "production"

DATA_DIR = env_path("ORDERFLOW_DATA_DIR", Path.cwd() / "data")
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as _error:
    raise SettingError(f"ORDERFLOW_DATA_DIR {DATA_DIR} cannot be created: {_error.strerror}") from None

DEVELOPMENT_SECRET_KEY = "orderflow-development-key-do-not-use-in-production-8d1f0b6a4c2e9f7d3b5a"
SECRET_KEY = env_str("ORDERFLOW_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env_bool("ORDERFLOW_DEBUG", not IS_PRODUCTION)

if IS_PRODUCTION:
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        raise SettingError("ORDERFLOW_SECRET_KEY must be set to a secret of your own in production")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise SettingError("ORDERFLOW_SECRET_KEY must be at least 50 varied characters in production")
    if DEBUG:
        raise SettingError("ORDERFLOW_DEBUG must be off in production")

BASE_URL = env_origin("ORDERFLOW_BASE_URL", "http://127.0.0.1:8000")
ALLOWED_HOSTS = env_list("ORDERFLOW_ALLOWED_HOSTS", [urlsplit(BASE_URL).hostname or "127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("ORDERFLOW_CSRF_TRUSTED_ORIGINS", [BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "orderflow.accounts",
    "orderflow.pipelines",
    "orderflow.notifications",
    "orderflow.automation",
    "orderflow.client_requests",
    "orderflow.backoffice",
    "orderflow.scheduling",
    "orderflow.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "orderflow.accounts.middleware.user_time_zone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "orderflow.urls"
WSGI_APPLICATION = "orderflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{DATA_DIR / 'orderflow.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql", "pgsql"),
)
_database = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("ORDERFLOW_DB_CONN_MAX_AGE", 60))
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE takes the write lock at BEGIN,
    # so two writers queue instead of failing half-way with "database is locked".
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests need a file, not memory: the Celery worker and the browser's server are other processes.
    _database["TEST"] = {"NAME": str(DATA_DIR / "test-orderflow.sqlite3")}
else:
    _database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "backoffice:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Languages and time -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pt", _("Portuguese")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not IS_PRODUCTION

# --- E-mail ---------------------------------------------------------------------------------
SMTP_URL = env_url("ORDERFLOW_SMTP_URL", "smtp://127.0.0.1:8025", schemes=("smtp", "smtps", "smtp+starttls"))
_smtp = urlsplit(SMTP_URL)
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _smtp.hostname,
            "port": _smtp.port or (465 if _smtp.scheme == "smtps" else 25),
            "username": unquote(_smtp.username or ""),
            "password": unquote(_smtp.password or ""),
            "use_ssl": _smtp.scheme == "smtps",
            "use_tls": _smtp.scheme == "smtp+starttls",
            "timeout": env_int("ORDERFLOW_SMTP_TIMEOUT", 10, minimum=1),
        },
    }
}
DEFAULT_FROM_EMAIL = env_str("ORDERFLOW_FROM_EMAIL", "Orderflow <orders@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The catcher is `orderflow up`'s own SMTP server that keeps every message in DATA_DIR/mail,
# where the staff UI shows it. Off when a real SMTP server is configured.
MAIL_CATCHER = env_bool("ORDERFLOW_MAIL_CATCHER", not IS_PRODUCTION)
MAIL_CATCHER_DIR = DATA_DIR / "mail"

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    "filesystem://localhost/",  # a host name, or kombu warns that none was supplied
    schemes=("filesystem", "redis", "rediss", "amqp", "amqps"),
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        # Claiming a message moves its file; that is atomic only inside one filesystem, so the
        # processed folder lives beside the queue (pruned by a beat task), never in /tmp.
        "store_processed": True,
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        # The transport looks for new files this often; at its default of 1 s a worker that takes one
        # message at a time (prefetch 1) runs about 2 tasks a second, so a backlog such as
        # `orderflow demo`'s events would take minutes to drain.
        "polling_interval": 0.1,
    }
    # The transport never creates its folders; every process that queues or consumes needs them.
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("ORDERFLOW_CELERY_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "prune-broker-folder": {"task": "orderflow.housekeeping.prune_broker_folder", "schedule": 3600.0},
    "deliver-due-messages": {"task": "orderflow.notifications.deliver_due_messages", "schedule": 10.0},
    # Due reminders, rule actions and inactivity checks (automation.schedule), in bounded batches.
    "sweep-due-jobs": {"task": "orderflow.automation.sweep_due_jobs", "schedule": 30.0},
}
# A message a worker took but did not finish within this many seconds (the worker died) is handed out again.
ORDERFLOW_OUTBOX_CLAIM_TIMEOUT = env_int("ORDERFLOW_OUTBOX_CLAIM_TIMEOUT", 300, minimum=1)
# Likewise for a scheduled job (a reminder step, a rule action) claimed by the automation sweep.
ORDERFLOW_JOB_LEASE_SECONDS = env_int("ORDERFLOW_JOB_LEASE_SECONDS", 300, minimum=1)

# --- Security (production) --------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("ORDERFLOW_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("ORDERFLOW_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ORDERFLOW_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("ORDERFLOW_HSTS_PRELOAD", True)
    if env_bool("ORDERFLOW_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("ORDERFLOW_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
