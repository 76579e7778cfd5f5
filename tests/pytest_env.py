"""Early pytest plugin (`-p tests.pytest_env`): the test environment, set before Django reads settings.

pytest-django configures Django while pytest is still parsing its options, before any conftest.py is
imported, so this module is named in addopts and does its work at import time. Each run (and each
xdist worker) gets its own temporary data directory, so tests never touch the developer's ./data, and
Celery runs tasks in-process unless a test starts a real worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

DATA_DIR = Path(tempfile.mkdtemp(prefix="orderflow-test-"))
# WhiteNoise warns about a missing STATIC_ROOT on every request; tests serve static files via finders.
(DATA_DIR / "static").mkdir()

os.environ["ORDERFLOW_DATA_DIR"] = str(DATA_DIR)
os.environ.setdefault("ORDERFLOW_CELERY_EAGER", "true")


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # The production hasher is slow on purpose (about a second per password); tests need speed only.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    database = settings.DATABASES["default"]
    engine = str(database["ENGINE"]).rsplit(".", 1)[-1]
    return [
        f"orderflow: data dir {DATA_DIR}",
        f"orderflow: database {engine} (test database named after {database['NAME']})",
        f"orderflow: celery eager={settings.CELERY_TASK_ALWAYS_EAGER}",
    ]


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(DATA_DIR, ignore_errors=True)
