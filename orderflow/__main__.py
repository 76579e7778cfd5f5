"""`python -m orderflow` is the same as the `orderflow` command."""

from orderflow.cli import main

raise SystemExit(main())
