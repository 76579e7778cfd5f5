"""The `orderflow` command as a person runs it: `up`, its refusals, `demo`, and settings errors.

The integration tests start the real command in a subprocess with its own data directory and ports,
so they never touch the developer's ./data; every process they start is killed in a finally.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from orderflow.config import SettingError
from orderflow.runtime import Address, StartupRefused, check_port_free, hold_data_dir_lock, parse_bind
from tests.fixtures.smtp import unused_tcp_port

START_TIMEOUT = 120
STOP_TIMEOUT = 30
ORDERFLOW = [sys.executable, "-m", "orderflow"]


# --- Helpers ---------------------------------------------------------------------------------------


def command_env(
    data_dir: Path, *, web_port: int | None = None, smtp_port: int | None = None
) -> dict[str, str]:
    """The environment of a fresh installation in `data_dir`: none of the suite's own settings leak in."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ORDERFLOW_", "CELERY_"))
        # DJANGO_ALLOW_ASYNC_UNSAFE is set in this process by the browser fixture, never by an operator.
        and name not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        ORDERFLOW_DATA_DIR=str(data_dir),
        ORDERFLOW_BIND=f"127.0.0.1:{web_port or unused_tcp_port()}",
        ORDERFLOW_SMTP_URL=f"smtp://127.0.0.1:{smtp_port or unused_tcp_port()}",
        ORDERFLOW_WEB_WORKERS="1",
        ORDERFLOW_WORKER_CONCURRENCY="1",
        DJANGO_SETTINGS_MODULE="orderflow.settings",
    )
    return env


def run_command(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ORDERFLOW, *args],
        env=env,
        cwd=env["ORDERFLOW_DATA_DIR"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def processes_of(data_dir: Path) -> list[int]:
    """Live processes (not zombies) started for `data_dir`: each inherits ORDERFLOW_DATA_DIR in its environment."""
    marker = f"ORDERFLOW_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            environ = (entry / "environ").read_bytes()
        except (OSError, IndexError):
            continue
        if state != "Z" and marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def group_is_gone(pgid: int) -> bool:
    """True when no live process is left in the process group (zombies awaiting a reaper do not count)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return False
    return True


@dataclass
class RunningUp:
    """An `orderflow up` started by a test; its output goes to a file so a full pipe can never block it."""

    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]
    data_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.env['ORDERFLOW_BIND']}"

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, *, timeout: float = START_TIMEOUT, after: int = 0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.compile(pattern).search(self.output, after)
            if match:
                return match
            if self.process.poll() is not None:
                pytest.fail(f"orderflow up exited with {self.process.returncode}:\n{self.output[-4000:]}")
            time.sleep(0.2)
        pytest.fail(f"no {pattern!r} within {timeout} s:\n{self.output[-4000:]}")

    def child_pids(self) -> dict[str, int]:
        """The latest pid of each child, as `up` reports them ("web started (pid 123)")."""
        return {
            name: int(pid) for name, pid in re.findall(r"^(\w+) started \(pid (\d+)\)$", self.output, re.M)
        }

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def kill_everything(self) -> None:
        """Last resort for a failed test: nothing it started may outlive it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        for pid in processes_of(self.data_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def start_up(data_dir: Path) -> RunningUp:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = command_env(data_dir)
    log = data_dir / "up.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*ORDERFLOW, "up"],
            env=env,
            cwd=data_dir,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return RunningUp(process=process, log=log, env=env, data_dir=data_dir)


def http_get(url: str, *, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, str]:
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def orderflow_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUp]:
    """One `orderflow up` shared by the tests that only look at a running installation."""
    running = start_up(tmp_path_factory.mktemp("up") / "data")
    try:
        running.wait_for(r"Orderflow is up: ")
        yield running
    finally:
        running.kill_everything()


# --- Fast checks of the pieces ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("127.0.0.1:8000", Address("127.0.0.1", 8000)),
        ("0.0.0.0:80", Address("0.0.0.0", 80)),
        ("[::1]:8000", Address("::1", 8000)),
        (" localhost:9000 ", Address("localhost", 9000)),
    ],
)
def test_bind_setting_accepts_host_and_port(raw: str, expected: Address) -> None:
    assert parse_bind(raw, setting="ORDERFLOW_BIND") == expected


@pytest.mark.parametrize(
    "raw", ["nonsense", "8000", ":8000", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000"]
)
def test_bind_setting_refuses_anything_else_naming_the_setting(raw: str) -> None:
    with pytest.raises(SettingError, match=re.escape("ORDERFLOW_BIND must look like 127.0.0.1:8000")):
        parse_bind(raw, setting="ORDERFLOW_BIND")


def test_wildcard_bind_is_reached_on_loopback() -> None:
    assert Address("0.0.0.0", 8000).local_url == "http://127.0.0.1:8000"
    assert Address("::", 8000).local_url == "http://[::1]:8000"


def test_port_check_names_a_port_in_use_and_the_setting() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(
            StartupRefused, match=rf"^port {port} on 127.0.0.1 is already in use \(web\).*ORDERFLOW_BIND"
        ):
            check_port_free(Address("127.0.0.1", port), purpose="web", setting="ORDERFLOW_BIND")


def test_port_check_passes_a_free_port() -> None:
    check_port_free(Address("127.0.0.1", unused_tcp_port()), purpose="web", setting="ORDERFLOW_BIND")


def test_data_dir_lock_refuses_a_second_holder_until_released(tmp_path: Path) -> None:
    first = hold_data_dir_lock(tmp_path)
    try:
        with pytest.raises(
            StartupRefused, match=rf"already running on the data directory {tmp_path} \(pid {os.getpid()}\)"
        ):
            hold_data_dir_lock(tmp_path)
    finally:
        first.close()
    hold_data_dir_lock(tmp_path).close()


# --- `orderflow up` ------------------------------------------------------------------------------------


@pytest.mark.integration
def test_up_serves_the_login_page_and_the_printed_admin_can_log_in(orderflow_up: RunningUp) -> None:
    status, page = http_get(f"{orderflow_up.base_url}/accounts/login/")
    assert status == 200
    assert "<form" in page
    assert 'name="username"' in page
    assert 'name="password"' in page

    email = orderflow_up.wait_for(r"e-mail:\s+(\S+)").group(1)
    password = orderflow_up.wait_for(r"password:\s+(\S+)").group(1)
    assert email == "admin@example.com"
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    _status, page = http_get(f"{orderflow_up.base_url}/accounts/login/", opener=opener)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": email, "password": password}
    ).encode()
    with opener.open(f"{orderflow_up.base_url}/accounts/login/", data=form, timeout=10) as response:
        assert response.status == 200
        assert not response.url.endswith("/accounts/login/"), "the printed credentials did not log in"


@pytest.mark.integration
def test_up_loads_the_demo_process_on_an_empty_database(orderflow_up: RunningUp) -> None:
    orderflow_up.wait_for(r"loaded the demo process “Website project”")
    with sqlite3.connect(orderflow_up.data_dir / "orderflow.sqlite3") as database:
        (pipelines,) = database.execute("select count(*) from pipelines_pipeline").fetchone()
    assert pipelines == 1


@pytest.mark.integration
def test_up_keeps_mail_sent_to_the_smtp_url_in_the_data_directory(orderflow_up: RunningUp) -> None:
    port = int(orderflow_up.env["ORDERFLOW_SMTP_URL"].rsplit(":", 1)[1])
    message = EmailMessage()
    message["From"] = "orders@localhost"
    message["To"] = "client@example.com"
    message["Subject"] = "Your order moved"
    message.set_content("Design approved.")

    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)

    caught = list((orderflow_up.data_dir / "mail" / "new").iterdir())
    assert any(b"Subject: Your order moved" in path.read_bytes() for path in caught)


@pytest.mark.integration
def test_second_up_on_the_same_data_dir_is_refused(orderflow_up: RunningUp) -> None:
    second = run_command("up", env=orderflow_up.env)

    assert second.returncode == 2
    assert second.stderr.strip() == (
        f"orderflow: Orderflow is already running on the data directory {orderflow_up.data_dir} "
        f"(pid {orderflow_up.process.pid}); stop it first, or set ORDERFLOW_DATA_DIR to another directory"
    )
    assert orderflow_up.process.poll() is None, "the first up must keep running"


@pytest.mark.integration
def test_up_restarts_a_web_server_that_died(orderflow_up: RunningUp) -> None:
    before = len(orderflow_up.output)
    os.kill(orderflow_up.child_pids()["web"], signal.SIGKILL)

    orderflow_up.wait_for(
        r"orderflow: web was killed by SIGKILL unexpectedly; restarting in \d+ s", after=before
    )
    orderflow_up.wait_for(r"web started \(pid \d+\)", after=before)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if http_get(f"{orderflow_up.base_url}/health/")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.3)
    else:
        pytest.fail("the restarted web server did not answer within 60 s")


@pytest.mark.integration
def test_sigterm_stops_every_process_and_exits_zero(tmp_path: Path) -> None:
    running = start_up(tmp_path / "data")
    try:
        running.wait_for(r"Orderflow is up: ")
        pids = running.child_pids()
        assert set(pids) == {"web", "worker", "beat", "mail"}
        assert processes_of(running.data_dir), "the /proc scan must see the running children"

        started = time.monotonic()
        assert running.stop() == 0
        assert time.monotonic() - started < STOP_TIMEOUT
        assert "Orderflow stopped." in running.output
        assert all(group_is_gone(pgid) for pgid in pids.values()), running.output[-3000:]
        assert processes_of(running.data_dir) == []
    finally:
        running.kill_everything()


@pytest.mark.integration
@pytest.mark.parametrize("busy", ["web", "smtp"])
def test_up_refuses_a_port_in_use_before_starting_anything(tmp_path: Path, busy: str) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        env = command_env(tmp_path, **({"web_port": port} if busy == "web" else {"smtp_port": port}))
        result = run_command("up", env=env)

    setting = "ORDERFLOW_BIND" if busy == "web" else "ORDERFLOW_SMTP_URL"
    assert result.returncode == 2
    assert result.stderr.startswith(f"orderflow: port {port} on 127.0.0.1 is already in use (")
    assert setting in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "orderflow.sqlite3").exists(), "nothing may start before the check"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("ORDERFLOW_DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://x"),
        ("ORDERFLOW_BIND", "nonsense"),
        ("ORDERFLOW_WEB_WORKERS", "0"),
        ("ORDERFLOW_SMTP_URL", "smtp://127.0.0.1:notaport"),
        ("ORDERFLOW_ADMIN_EMAIL", "not-an-address"),
        ("ORDERFLOW_ADMIN_PASSWORD", "short"),
    ],
)
def test_malformed_setting_stops_up_with_one_line_naming_it(tmp_path: Path, setting: str, value: str) -> None:
    env = command_env(tmp_path)
    env[setting] = value

    result = run_command("up", env=env)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"orderflow: {setting} ")
    assert not (tmp_path / "orderflow.sqlite3").exists()


@pytest.mark.integration
def test_malformed_setting_stops_any_django_command_the_same_way(tmp_path: Path) -> None:
    env = command_env(tmp_path)
    env["ORDERFLOW_DEBUG"] = "maybe"

    result = run_command("check", env=env)

    assert result.returncode == 2
    assert result.stderr == "orderflow: ORDERFLOW_DEBUG must be true or false, got 'maybe'\n"


@pytest.mark.integration
def test_help_lists_up_and_demo_beside_django_commands(tmp_path: Path) -> None:
    result = run_command("--help", env=command_env(tmp_path))

    assert result.returncode == 0
    assert "orderflow up " in result.stdout
    assert "orderflow demo [--orders N]" in result.stdout
    assert "migrate" in result.stdout


# --- `orderflow demo` ------------------------------------------------------------------------------


@pytest.mark.integration
def test_demo_creates_orders_in_every_main_stage_with_their_timelines(tmp_path: Path) -> None:
    env = command_env(tmp_path)
    assert run_command("migrate", "--verbosity", "0", env=env).returncode == 0

    result = run_command("demo", "--orders", "30", env=env)

    assert result.returncode == 0, result.stderr
    assert "Demo data: 30 orders" in result.stdout
    with sqlite3.connect(tmp_path / "orderflow.sqlite3") as database:
        (orders,) = database.execute("select count(*) from pipelines_order").fetchone()
        main_stages = {
            key for (key,) in database.execute("select key from pipelines_stage where not is_side")
        }
        reached = {
            key
            for (key,) in database.execute(
                "select distinct s.key from pipelines_order o join pipelines_stage s on s.id = o.stage_id"
            )
        }
        without_timeline = database.execute(
            "select count(*) from pipelines_order o where not exists "
            "(select 1 from pipelines_orderevent e where e.order_id = o.id and e.kind = 'order.created')"
        ).fetchone()[0]
        (moves,) = database.execute(
            "select count(*) from pipelines_orderevent where kind = 'order.stage_changed'"
        ).fetchone()
    assert orders == 30
    assert main_stages
    assert main_stages <= reached
    assert without_timeline == 0
    assert moves > 30
