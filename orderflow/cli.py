"""The `orderflow` console command: `up`, `demo`, and every Django management command."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderflow.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)
    return 0
