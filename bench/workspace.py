"""Benchmark: how the staff board, order list and order card scale with the number of orders.

    .venv/bin/python bench/workspace.py --orders 10000 [--repeat 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orderflow_bench .venv/bin/python bench/workspace.py

It builds a throw-away database (a temporary SQLite file, or the PostgreSQL database named in
DATABASE_URL, which it migrates and then empties of orders), fills it with N orders spread over
every stage, and reports for each page the median wall time over the repeats and the number of SQL
queries. Query counts must not grow with N; times are for comparing runs on the same machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class QueryCounter:
    """A database execute wrapper that counts the statements a request sends."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    os.environ.setdefault("ORDERFLOW_DATA_DIR", tempfile.mkdtemp(prefix="orderflow-bench-"))
    os.environ["ORDERFLOW_CELERY_EAGER"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "orderflow.settings"
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from tqdm import tqdm

    from orderflow.accounts.models import User
    from orderflow.accounts.roles import Role
    from orderflow.backoffice.tests.bulk_orders import bulk_orders
    from orderflow.pipelines.models import Order, OrderEvent, Pipeline
    from orderflow.pipelines.process_io import DEMO_TEMPLATE, import_process_template

    setup_test_environment()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    OrderEvent.objects.all().delete()
    Order.objects.all().delete()
    Pipeline.objects.filter(slug="website").delete()
    pipeline = import_process_template(DEMO_TEMPLATE.read_text(encoding="utf-8"))
    user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"is_staff": True})
    user.groups.add(*Group.objects.filter(name=Role.REP))

    with tqdm(total=args.orders, desc="orders", unit="order") as progress:
        made = 0
        while made < args.orders:
            batch = min(2000, args.orders - made)
            bulk_orders(pipeline, batch, owners=(user, None))
            made += batch
            progress.update(batch)

    client = Client()
    client.force_login(user)
    some_order = Order.objects.filter(pipeline=pipeline).order_by("pk").first()
    assert some_order is not None
    pages = {
        "board": reverse("backoffice:board", args=[pipeline.slug]),
        "order list": reverse("backoffice:order-list"),
        "list search": reverse("backoffice:order-list") + "?q=bulk-4242",
        "order card": reverse("backoffice:order-detail", args=[some_order.pk]),
    }
    print(f"\n{'page':<14}{'status':>7}{'queries':>9}{'median ms':>11}{'max ms':>9}")
    for name, url in pages.items():
        client.get(url)  # warm caches
        timings = []
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            response = client.get(url)
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        print(
            f"{name:<14}{response.status_code:>7}{counter.count:>9}"
            f"{statistics.median(timings):>11.0f}{max(timings):>9.0f}"
        )
    print(f"\n{args.orders} orders, {args.repeat} repeats each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
