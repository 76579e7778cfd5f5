"""The `orderflow` console command: `up`, `demo`, `catcher`, and every Django management command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

EXIT_BAD_SETTING = 2

OVERVIEW = """\
Orderflow: long service orders, run together with clients and contractors.

  orderflow up                   start the web server, Celery worker and beat, and the e-mail
                                 catcher; watch them until Ctrl-C
  orderflow demo [--orders N]    add realistic demo staff, clients and orders to the database
  orderflow catcher              run only the SMTP catcher (`up` starts it for you)
  orderflow <django command>     any Django management command: migrate, createsuperuser, shell …

Settings come from the environment: ORDERFLOW_DATA_DIR, ORDERFLOW_BIND, DATABASE_URL,
CELERY_BROKER_URL, ORDERFLOW_SMTP_URL and the other ORDERFLOW_* variables.
"""

UP_DESCRIPTION = """\
Migrate the database, create the first administrator if there is none, then run the web server
(gunicorn), a Celery worker, Celery beat and, in development, the SMTP catcher, restarting any that
crash. Ctrl-C or SIGTERM stops them all.

Environment: ORDERFLOW_BIND (default 127.0.0.1:8000), ORDERFLOW_WEB_WORKERS (2),
ORDERFLOW_WORKER_CONCURRENCY (2), ORDERFLOW_ADMIN_EMAIL (admin@example.com) and
ORDERFLOW_ADMIN_PASSWORD (generated and shown once when unset).
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _up(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="orderflow up", description=UP_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args(args)
    from orderflow import runtime

    return runtime.up()


def _demo(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="orderflow demo",
        description="Add demo staff users, client contacts and orders spread over every stage, with their "
        "timelines, so the product can be tried and shown. Loads the demo process first if there is no pipeline.",
    )
    parser.add_argument("--orders", type=_positive_int, default=200, help="how many orders (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random choices (default 1)")
    options = parser.parse_args(args)
    import django

    django.setup()
    from orderflow import demo, runtime

    runtime.prepare_data_dir()
    runtime.migrate_database()
    summary = demo.create_demo_data(orders=options.orders, seed=options.seed, progress=True)
    print(summary.describe())
    return 0


def _catcher(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="orderflow catcher",
        description="Run the SMTP catcher alone: every message sent to ORDERFLOW_SMTP_URL is kept in "
        "the data directory's mail folder, where staff can read it.",
    )
    parser.parse_args(args)
    from orderflow import runtime

    return runtime.run_mail_catcher()


COMMANDS: dict[str, Callable[[list[str]], int]] = {"up": _up, "demo": _demo, "catcher": _catcher}


def _load_settings(argv: list[str]) -> None:
    """Import the settings now, honouring --settings/--pythonpath as django-admin does.

    Settings are read from the environment at import, so a malformed value surfaces here, before
    any command runs, as one ImproperlyConfigured naming the variable.
    """
    from django.conf import settings
    from django.core.management.base import CommandParser, handle_default_options

    parser = CommandParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--settings")
    parser.add_argument("--pythonpath")
    options, _rest = parser.parse_known_args(argv[2:])
    handle_default_options(options)
    settings.INSTALLED_APPS  # noqa: B018 - importing the settings is the point


def _run(argv: list[str]) -> int:
    from django.core.management import execute_from_command_line

    _load_settings(argv)
    command = argv[1] if len(argv) > 1 else "help"
    if command in COMMANDS:
        return COMMANDS[command](argv[2:])
    if command in {"help", "--help", "-h"} and len(argv) <= 2:
        sys.stdout.write(OVERVIEW)
        argv = [argv[0], "help"]
    elif command == "help" and argv[2] in COMMANDS:
        return COMMANDS[argv[2]](["--help"])
    execute_from_command_line(argv)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; settings and start-up problems end in one line on stderr and exit code 2."""
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "orderflow"  # also when started as `python -m orderflow`, so help says what to type
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderflow.settings")
    from orderflow.runtime import StartupRefused

    try:
        return _run(argv)
    except (ImproperlyConfigured, StartupRefused) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        sys.stderr.write(f"orderflow: {message}\n")
        return EXIT_BAD_SETTING
    except KeyboardInterrupt:
        sys.stderr.write("orderflow: interrupted\n")
        return 130
