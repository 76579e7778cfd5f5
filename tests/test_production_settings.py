"""A production configuration: it refuses the development key and DEBUG, and Django's deploy check is clean.

Each case runs the real `orderflow` command in a subprocess with a fresh environment, as an operator
would start it, so the suite's own settings never leak in.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.test_cli import command_env, run_command

pytestmark = pytest.mark.integration


def production_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = command_env(data_dir)
    env.update(
        ORDERFLOW_ENV="production",
        ORDERFLOW_SECRET_KEY=secrets.token_urlsafe(60),
        ORDERFLOW_BASE_URL="https://orders.example.com",
        ORDERFLOW_MAIL_CATCHER="false",
    )
    env.update(overrides)
    return env


def test_production_check_deploy_is_clean(tmp_path: Path) -> None:
    result = run_command("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_settings_fail_the_deploy_check(tmp_path: Path) -> None:
    """The same check is not a formality: the development defaults do not pass it."""
    result = run_command("check", "--deploy", "--fail-level", "WARNING", env=command_env(tmp_path))

    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout  # DEBUG on


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"ORDERFLOW_SECRET_KEY": ""},
            "orderflow: ORDERFLOW_SECRET_KEY must be set to a secret of your own in production",
        ),
        (
            {"ORDERFLOW_SECRET_KEY": "short-key"},
            "orderflow: ORDERFLOW_SECRET_KEY must be at least 50 varied characters in production",
        ),
        (
            {"ORDERFLOW_SECRET_KEY": "a" * 80},
            "orderflow: ORDERFLOW_SECRET_KEY must be at least 50 varied characters in production",
        ),
        ({"ORDERFLOW_DEBUG": "true"}, "orderflow: ORDERFLOW_DEBUG must be off in production"),
    ],
)
def test_production_refuses_to_start_with_development_secrets_or_debug(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    env = production_env(tmp_path, **overrides)
    if overrides.get("ORDERFLOW_SECRET_KEY") == "":
        del env["ORDERFLOW_SECRET_KEY"]

    for command in (("up",), ("check",)):
        result = run_command(*command, env=env)

        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.strip() == message
        assert not (tmp_path / "orderflow.sqlite3").exists(), "nothing may start before the refusal"
