"""`orderflow up`: prepares the data directory and database, then runs and watches the server processes.

One command gives a newcomer the whole product on one machine: the web server, a Celery worker,
Celery beat and (in development) the SMTP catcher, each a real process in its own process group,
restarted when it crashes and stopped together, children included, on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import http.client
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO, cast

from orderflow.config import SettingError, env_int

DEFAULT_BIND = "127.0.0.1:8000"
LOCK_NAME = "orderflow.lock"
# A child that crashes more often than this within the window is broken, not unlucky.
MAX_CRASHES = 5
CRASH_WINDOW_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 16.0
STOP_GRACE_SECONDS = 20.0
# gunicorn waits this long for running requests on SIGTERM; below STOP_GRACE_SECONDS, so it
# finishes before the supervisor resorts to SIGKILL.
WEB_GRACEFUL_SECONDS = 15

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


class StartupRefused(Exception):
    """`up` cannot start as things are (port taken, already running); the message says why, in one line."""


# --- Configuration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """A host and TCP port to listen on, as given in ORDERFLOW_BIND or a URL."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def local_url(self) -> str:
        """The base URL to reach this address from this machine (a wildcard becomes loopback)."""
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


def parse_bind(raw: str, *, setting: str) -> Address:
    """`host:port` or `[ipv6]:port`; anything else is a SettingError naming `setting`."""
    text = raw.strip()
    host, separator, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not separator or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536 or " " in host:
        raise SettingError(f"{setting} must look like 127.0.0.1:8000 (host:port); got {raw!r}")
    return Address(host, int(port_text))


@dataclass(frozen=True)
class UpConfig:
    """What `up` reads from the environment besides Django's settings, checked before anything starts."""

    bind: Address
    web_workers: int
    worker_concurrency: int
    admin_email: str
    admin_password: str | None

    @classmethod
    def from_environment(cls) -> UpConfig:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        admin_email = os.environ.get("ORDERFLOW_ADMIN_EMAIL", "admin@example.com").strip().lower()
        try:
            validate_email(admin_email)
        except ValidationError:
            raise SettingError(
                f"ORDERFLOW_ADMIN_EMAIL must be an e-mail address; got {admin_email!r}"
            ) from None
        return cls(
            bind=parse_bind(os.environ.get("ORDERFLOW_BIND", DEFAULT_BIND), setting="ORDERFLOW_BIND"),
            web_workers=env_int("ORDERFLOW_WEB_WORKERS", 2, minimum=1, maximum=64),
            worker_concurrency=env_int("ORDERFLOW_WORKER_CONCURRENCY", 2, minimum=1, maximum=64),
            admin_email=admin_email,
            admin_password=os.environ.get("ORDERFLOW_ADMIN_PASSWORD") or None,
        )


def mail_catcher_address() -> Address:
    """Where the SMTP catcher listens: the host and port of ORDERFLOW_SMTP_URL, which the mailer uses."""
    from django.conf import settings

    options = cast(dict[str, Any], settings.MAILERS["default"]["OPTIONS"])
    return Address(str(options["host"]), int(options["port"]))


# --- Checks before starting -----------------------------------------------------------------------


def hold_data_dir_lock(data_dir: Path) -> IO[str]:
    """Take the data directory's lock for the life of this process, or refuse if another `up` has it.

    The lock is an flock, so the kernel drops it when the process dies however it dies; the pid
    written into the file is only there to make the refusal helpful. Keep the returned file open.
    """
    path = data_dir / LOCK_NAME
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        who = f" (pid {holder})" if holder.isdigit() else ""
        raise StartupRefused(
            f"Orderflow is already running on the data directory {data_dir}{who}; "
            "stop it first, or set ORDERFLOW_DATA_DIR to another directory"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def check_port_free(address: Address, *, purpose: str, setting: str) -> None:
    """Refuse to start if `address` cannot be listened on, naming the port, what it is for and the setting.

    Binds the way the server will (SO_REUSEADDR), so a port held only by closing connections counts as free.
    """
    try:
        candidates = socket.getaddrinfo(
            address.host, address.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        raise StartupRefused(f"{setting}: the host name {address.host!r} does not resolve") from None
    for family, kind, protocol, _name, socket_address in candidates:
        try:
            with socket.socket(family, kind, protocol) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(socket_address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                reason = f"port {address.port} on {address.host} is already in use ({purpose})"
                raise StartupRefused(
                    f"{reason}: stop what uses it, or set {setting} to another port"
                ) from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise StartupRefused(f"{setting}: {address.host} is not an address of this machine") from None
            if error.errno == errno.EACCES:
                raise StartupRefused(
                    f"{setting}: port {address.port} needs special privileges; use a port above 1023"
                ) from None
            raise StartupRefused(f"{setting}: cannot listen on {address}: {error.strerror}") from None


# --- Preparing the data directory and the database --------------------------------------------------


def prepare_data_dir() -> None:
    """Create the folders the filesystem broker expects: kombu never creates them, and fails without."""
    from django.conf import settings

    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(str(options[key])).mkdir(parents=True, exist_ok=True)


def migrate_database() -> None:
    """Bring the schema up to date; a database that cannot be reached is a one-line refusal naming DATABASE_URL."""
    from django.core.management import call_command
    from django.db import OperationalError

    try:
        call_command("migrate", interactive=False, verbosity=0)
    except OperationalError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StartupRefused(f"the database (DATABASE_URL) cannot be used: {first_line}") from None


def database_is_empty() -> bool:
    """True for a database nobody has used yet: no user of any kind."""
    from orderflow.accounts.models import User

    return not User.objects.exists()


@dataclass(frozen=True)
class FirstAdmin:
    email: str
    password: str | None  # None: the password is the one given in ORDERFLOW_ADMIN_PASSWORD


def check_admin_password(password: str | None) -> None:
    """A password given in the environment must pass the same rules as any other; refused before migrating."""
    if password is None:
        return
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password)
    except ValidationError as error:
        raise SettingError(f"ORDERFLOW_ADMIN_PASSWORD is not accepted: {' '.join(error.messages)}") from None


def create_first_admin(*, email: str, password: str | None) -> FirstAdmin | None:
    """Create the first administrator unless a superuser exists. Returns what to tell the person starting up.

    An e-mail that already belongs to an ordinary user is refused rather than promoted: handing an
    existing account admin rights and a new password is not something to do silently.
    """
    from django.contrib.auth.models import Group
    from django.db import transaction

    from orderflow.accounts.models import User
    from orderflow.accounts.roles import Role

    if User.objects.filter(is_superuser=True).exists():
        return None
    if User.objects.filter(email__iexact=email).exists():
        raise StartupRefused(
            f"ORDERFLOW_ADMIN_EMAIL: {email} belongs to a user who is not an administrator; choose another address"
        )
    generated = None if password else secrets.token_urlsafe(12)
    with transaction.atomic():
        admin = User.objects.create_superuser(email, password or generated, full_name="Administrator")
        admin.groups.add(Group.objects.get(name=Role.ADMIN))
    return FirstAdmin(email=email, password=generated)


def collect_static_files() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


# --- The child processes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildSpec:
    """One long-running program `up` starts: a short name for its output and the command line."""

    name: str
    argv: list[str]


def child_specs(config: UpConfig, *, mail_catcher: bool, beat_schedule: str) -> list[ChildSpec]:
    python = sys.executable
    web = [python, "-m", "gunicorn", "orderflow.wsgi:application", "--bind", str(config.bind)]
    web += ["--workers", str(config.web_workers), "--threads", "4", "--access-logfile", "-"]
    web += ["--graceful-timeout", str(WEB_GRACEFUL_SECONDS)]
    # gunicorn 27's default control socket is one per user in ~/.gunicorn, so two installations
    # on one machine would fight over it; `up` does not use it.
    web += ["--no-control-socket"]
    celery = [python, "-m", "celery", "-A", "orderflow"]
    worker = [*celery, "worker", "--loglevel", "INFO", "--concurrency", str(config.worker_concurrency)]
    beat = [*celery, "beat", "--loglevel", "INFO", "--schedule", beat_schedule]
    specs = [ChildSpec("web", web), ChildSpec("worker", worker), ChildSpec("beat", beat)]
    if mail_catcher:
        specs.append(ChildSpec("mail", [python, "-m", "orderflow", "catcher"]))
    return specs


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _libc_prctl()


def _die_with_supervisor(supervisor_pid: int) -> Callable[[], None] | None:
    """A pre-exec hook so a child gets SIGTERM if the supervisor itself is killed (SIGKILL, OOM), not orphaned."""
    prctl = _PRCTL
    if prctl is None:
        return None

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != supervisor_pid:  # the supervisor died between fork and prctl
            os._exit(1)

    return hook


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    crashes: deque[float] = field(default_factory=deque)
    restart_at: float | None = None

    @property
    def pgid(self) -> int | None:
        return self.process.pid if self.process is not None else None


class Supervisor:
    """Runs the children, prefixes their output, restarts crashed ones and stops them all together.

    Each child leads its own session, so a terminal's Ctrl-C reaches only the supervisor, which then
    stops the children in order and finishes with their whole process groups, so no gunicorn worker
    or Celery pool process is left behind. All reaping happens on the main thread.
    """

    def __init__(
        self,
        specs: Sequence[ChildSpec],
        *,
        env: dict[str, str],
        health_url: str,
        ready_message: str,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.children = [_Child(spec) for spec in specs]
        self.env = env
        self.health_url = health_url
        self.ready_message = ready_message
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._hurry = threading.Event()
        self._stop_reason = "the supervisor failed"
        self._exit_code = 0
        self._name_width = max(len(spec.name) for spec in specs)

    # -- output --
    def say(self, text: str, *, error: bool = False) -> None:
        stream = self.err if error else self.out
        with self._write_lock:
            stream.write(text + "\n")
            stream.flush()

    def _relay(self, child: _Child, pipe: IO[bytes]) -> None:
        prefix = f"{child.spec.name:<{self._name_width}} | "
        with pipe:
            for raw in iter(pipe.readline, b""):
                self.say(prefix + raw.decode("utf-8", "replace").rstrip("\r\n"))

    # -- life cycle --
    def run(self) -> int:
        """Run until a signal or a crash loop; returns the exit code (0 after a requested stop)."""
        self._become_subreaper()
        previous = {
            number: signal.signal(number, self._on_signal)
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        }
        try:
            for child in self.children:
                self._start(child)
            threading.Thread(target=self._announce_when_ready, name="health", daemon=True).start()
            while not self._stop.is_set():
                self._reap_orphans()
                now = time.monotonic()
                for child in self.children:
                    if child.process is not None and child.process.poll() is not None:
                        self._on_unexpected_exit(child, now)
                    elif child.restart_at is not None and now >= child.restart_at and not self._stop.is_set():
                        self._start(child)
                self._stop.wait(0.2)
        finally:
            self._stop.set()
            self._stop_children()
            for number, handler in previous.items():
                signal.signal(number, handler)
        self.say("Orderflow stopped.")
        return self._exit_code

    def _on_signal(self, number: int, _frame: object) -> None:
        if self._stop.is_set():
            self._hurry.set()  # a second Ctrl-C: do not wait for graceful shutdowns
            return
        self._stop_reason = f"{signal.Signals(number).name} received"
        self._stop.set()

    def _start(self, child: _Child) -> None:
        child.restart_at = None
        process = subprocess.Popen(
            child.spec.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
            preexec_fn=_die_with_supervisor(os.getpid()),
        )
        assert process.stdout is not None
        child.process = process
        child.reader = threading.Thread(
            target=self._relay, args=(child, process.stdout), name=f"relay-{child.spec.name}", daemon=True
        )
        child.reader.start()
        self.say(f"{child.spec.name} started (pid {process.pid})")

    def _on_unexpected_exit(self, child: _Child, now: float) -> None:
        assert child.process is not None
        code = child.process.returncode
        pgid = child.process.pid
        child.process = None
        _signal_group(pgid, signal.SIGKILL)  # whatever it left behind dies with it
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        child.crashes.append(now)
        while child.crashes and now - child.crashes[0] > CRASH_WINDOW_SECONDS:
            child.crashes.popleft()
        if len(child.crashes) > MAX_CRASHES:
            self._exit_code = 1
            self.say(
                f"orderflow: {child.spec.name} {how} and crashed {len(child.crashes)} times "
                f"within {CRASH_WINDOW_SECONDS:.0f} s; its output above says why",
                error=True,
            )
            self._stop_reason = f"{child.spec.name} keeps crashing"
            self._stop.set()
            return
        delay = min(2.0 ** (len(child.crashes) - 1), MAX_BACKOFF_SECONDS)
        self.say(f"orderflow: {child.spec.name} {how} unexpectedly; restarting in {delay:.0f} s", error=True)
        child.restart_at = now + delay

    def _stop_children(self) -> None:
        """Stop every child and everything it started: SIGTERM, up to STOP_GRACE_SECONDS, then SIGKILL.

        The first SIGTERM goes to each child itself, not yet to its group: gunicorn's master and
        Celery's main process then stop their own workers in order, so a request or task in progress
        finishes instead of dying half-way. Once a child has exited, the rest of its group gets
        SIGTERM too, and whatever of any group is still there at the deadline is killed.
        """
        running = [child for child in self.children if child.process is not None]
        if running:
            self.say(f"{self._stop_reason}: stopping (Ctrl-C again kills at once)")
        for child in running:
            assert child.process is not None
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        groups = {child.process.pid: child for child in running if child.process is not None}
        leaders_gone: set[int] = set()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self._groups_alive(list(groups)) and time.monotonic() < deadline:
            if self._hurry.is_set():
                break
            self._follow_up_stopped_leaders(groups, leaders_gone)
            time.sleep(0.1)
        self._follow_up_stopped_leaders(groups, leaders_gone)
        for pgid in self._groups_alive(list(groups)):
            if not self._hurry.is_set():
                self.say(
                    f"orderflow: {groups[pgid].spec.name} did not stop within {STOP_GRACE_SECONDS:.0f} s; killing it",
                    error=True,
                )
            _signal_group(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self._groups_alive(list(groups)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for child in running:
            if child.reader is not None:
                child.reader.join(timeout=2)
            child.process = None

    def _follow_up_stopped_leaders(self, groups: dict[int, _Child], leaders_gone: set[int]) -> None:
        """Report each child that has exited, and SIGTERM what it left in its group."""
        for pgid, child in groups.items():
            if (
                pgid not in leaders_gone
                and child.process is not None
                and child.process.returncode is not None
            ):
                leaders_gone.add(pgid)
                self.say(f"{child.spec.name} stopped")
                _signal_group(pgid, signal.SIGTERM)

    def _groups_alive(self, pgids: list[int]) -> list[int]:
        self._reap_orphans()
        for child in self.children:
            if child.process is not None:
                child.process.poll()
        return [pgid for pgid in pgids if _group_exists(pgid)]

    # -- orphans --
    def _become_subreaper(self) -> None:
        """Adopt the children's orphans (say, gunicorn workers whose master crashed) so they can be reaped."""
        if _PRCTL is not None:
            _PRCTL(_PR_SET_CHILD_SUBREAPER, 1)

    def _reap_orphans(self) -> None:
        """Collect exited processes that are not our direct children; Popen collects its own."""
        own = {child.process.pid: child.process for child in self.children if child.process is not None}
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            if info.si_pid in own:
                own[info.si_pid].poll()
                return  # leave its exit to the main loop, which reports it
            with contextlib.suppress(ChildProcessError):
                os.waitpid(info.si_pid, 0)

    # -- readiness --
    def _announce_when_ready(self) -> None:
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.health_url, timeout=2) as response:
                    answered = response.status < 500
            except urllib.error.HTTPError as error:
                answered = error.code < 500  # e.g. a host not in ALLOWED_HOSTS: the server itself is up
            except (urllib.error.URLError, http.client.HTTPException, OSError):
                answered = False
            if answered:
                self.say(self.ready_message)
                return
            self._stop.wait(0.5)


def _signal_group(pgid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, number)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- `orderflow up` ----------------------------------------------------------------------------------


def up() -> int:
    """Check, prepare, then supervise until stopped. Returns the process exit code."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    config = UpConfig.from_environment()
    check_admin_password(config.admin_password)
    data_dir = Path(settings.DATA_DIR)
    lock = hold_data_dir_lock(data_dir)
    try:
        check_port_free(config.bind, purpose="the web server's port", setting="ORDERFLOW_BIND")
        if settings.MAIL_CATCHER:
            check_port_free(
                mail_catcher_address(), purpose="the SMTP catcher's port", setting="ORDERFLOW_SMTP_URL"
            )
        prepare_data_dir()
        migrate_database()
        print("database ready", flush=True)
        login_url = f"{config.bind.local_url}/accounts/login/"
        fresh = database_is_empty()
        first_admin = create_first_admin(email=config.admin_email, password=config.admin_password)
        if first_admin is not None:
            password = first_admin.password or "(the one in ORDERFLOW_ADMIN_PASSWORD)"
            print(
                f"First administrator created. Log in at {login_url}\n"
                f"    e-mail:   {first_admin.email}\n"
                f"    password: {password}\n"
                f"  (shown once; `orderflow changepassword {first_admin.email}` sets a new one)",
                flush=True,
            )
        if fresh:
            from orderflow.pipelines.process_io import load_demo_process

            pipeline = load_demo_process()
            if pipeline is not None:
                print(f"loaded the demo process “{pipeline.name}”", flush=True)
        if settings.IS_PRODUCTION:
            collect_static_files()
        connections.close_all()

        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["ORDERFLOW_DATA_DIR"] = str(data_dir)
        env.setdefault("DJANGO_SETTINGS_MODULE", "orderflow.settings")
        supervisor = Supervisor(
            child_specs(
                config,
                mail_catcher=settings.MAIL_CATCHER,
                beat_schedule=settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ),
            env=env,
            health_url=f"{config.bind.local_url}/health/",
            ready_message=f"Orderflow is up: {config.bind.local_url}/ (log in at /accounts/login/)",
        )
        return supervisor.run()
    finally:
        lock.close()


# --- `orderflow catcher` --------------------------------------------------------------------------


def run_mail_catcher() -> int:
    """Serve SMTP on ORDERFLOW_SMTP_URL's host and port, keeping every message in MAIL_CATCHER_DIR, until signalled."""
    import django

    django.setup()
    from aiosmtpd.controller import Controller
    from django.conf import settings

    from orderflow.notifications.catcher import MaildirHandler

    address = mail_catcher_address()
    check_port_free(address, purpose="the SMTP catcher's port", setting="ORDERFLOW_SMTP_URL")
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda _number, _frame: stop.set())
    folder = Path(settings.MAIL_CATCHER_DIR)
    # mailbox.Maildir(create=True) makes tmp/new/cur only when the folder itself is missing; an
    # empty folder (made by hand, or restored from a backup) would make every delivery fail.
    for part in ("tmp", "new", "cur"):
        (folder / part).mkdir(parents=True, exist_ok=True)
    controller = Controller(MaildirHandler(folder), hostname=address.host, port=address.port)
    # aiosmtpd logs every connection at INFO, including its own start-up probe; the caught
    # messages themselves are on the staff pages, so only its warnings are worth showing.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller.start()
    sys.stdout.write(f"catching e-mail on smtp://{address} into {settings.MAIL_CATCHER_DIR}\n")
    sys.stdout.flush()
    try:
        while not stop.wait(1):
            pass
    finally:
        controller.stop()
    return 0
