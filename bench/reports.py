"""Benchmark: the pipeline reports (funnel, time in stage) on a PostgreSQL database with many orders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orderflow_bench \\
        .venv/bin/python bench/reports.py --orders 1000000 --events-per-order 10

It migrates the database named in DATABASE_URL, empties it of orders and fills it in SQL
(generate_series): N orders of one pipeline opened over three years, each with a "created" event
and moves along the main path, so N times events-per-order events in all. Then it times the report page
and each of its two queries over a 30-day, a 90-day and a 365-day period, and prints the query plans.
Only for PostgreSQL: SQLite databases of this size are not a supported set-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--events-per-order", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse the orders already in the database")
    parser.add_argument(
        "--without-entry-times",
        action="store_true",
        help="leave OrderEvent.from_stage_entered_at empty, as on moves recorded before it was kept",
    )
    args = parser.parse_args()

    os.environ.setdefault("ORDERFLOW_DATA_DIR", tempfile.mkdtemp(prefix="orderflow-bench-"))
    os.environ["ORDERFLOW_CELERY_EAGER"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "orderflow.settings"
    import django

    django.setup()
    import datetime

    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    from orderflow.accounts.models import User
    from orderflow.accounts.roles import Role
    from orderflow.pipelines.models import Pipeline
    from orderflow.pipelines.process_io import SHIPPED_DIR, import_process_template
    from orderflow.reports import selectors

    if connection.vendor != "postgresql":
        print("bench/reports.py needs PostgreSQL (set DATABASE_URL)")
        return 2
    setup_test_environment()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    pipeline = Pipeline.objects.filter(slug="repair").first()
    if not args.keep or pipeline is None:
        _fill(
            connection,
            args.orders,
            args.events_per_order,
            import_process_template,
            SHIPPED_DIR,
            args.without_entry_times,
        )
        pipeline = Pipeline.objects.get(slug="repair")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pipelines_order")
        orders = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pipelines_orderevent")
        events = cursor.fetchone()[0]
    print(f"{orders} orders, {events} events")

    user, _created = User.objects.get_or_create(
        email="bench-manager@example.com", defaults={"is_staff": True}
    )
    user.groups.add(*Group.objects.filter(name=Role.MANAGER))
    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    stages = list(pipeline.stages.order_by("position", "id"))
    print(f"\n{'period':<10}{'funnel ms':>11}{'times ms':>10}{'page ms':>9}")
    for days in (30, 90, 365):
        first = today - datetime.timedelta(days=days - 1)
        period = selectors.Period.of_days(first, today, zone=datetime.UTC)
        funnel_ms = _median(
            args.repeat, lambda period=period: selectors.funnel(pipeline, period, stages=stages)
        )
        times_ms = _median(
            args.repeat, lambda period=period: selectors.time_in_stage(pipeline, period, stages=stages)
        )
        url = reverse("reports:pipeline", args=[pipeline.slug]) + f"?start={first}&end={today}"
        page_ms = _median(args.repeat, lambda url=url: client.get(url))
        print(f"{days:>4} days {funnel_ms:>11.0f}{times_ms:>10.0f}{page_ms:>9.0f}")

    period = selectors.Period.of_days(today - datetime.timedelta(days=29), today, zone=datetime.UTC)
    for name, run in (
        ("funnel", lambda: _tuned(selectors.funnel, pipeline, period, stages)),
        ("time in stage", lambda: _tuned(selectors.time_in_stage, pipeline, period, stages)),
    ):
        print(f"\nplan of {name} (30 days):")
        with connection.execute_wrapper(_Explain(connection)):
            run()
    return 0


def _tuned(report, pipeline, period, stages):  # type: ignore[no-untyped-def]
    """One report query as the page runs it (see reports.selectors.report_queries)."""
    from orderflow.reports.selectors import report_queries

    with report_queries():
        return report(pipeline, period, stages=stages)


def _median(repeat: int, run: object) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


class _Explain:
    """An execute wrapper that prints EXPLAIN ANALYZE of the reports' queries, then runs them."""

    def __init__(self, connection: object) -> None:
        self.connection = connection
        self.explaining = False

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if "pipelines_orderevent" in sql and not self.explaining:
            self.explaining = True
            try:
                rows = execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params, many, context)
                del rows
                print("\n".join(row[0] for row in context["cursor"].fetchall()))
            finally:
                self.explaining = False
        return execute(sql, params, many, context)


def _fill(connection, orders, events_per_order, import_process_template, shipped_dir, without_entry_times):  # type: ignore[no-untyped-def]
    """N orders over three years in the repair pipeline, and their events, written by PostgreSQL itself."""
    from orderflow.pipelines.models import Pipeline

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE pipelines_orderevent, pipelines_stafftask, pipelines_order_tags, "
            "pipelines_order_watchers, pipelines_order CASCADE"
        )
    Pipeline.objects.filter(slug="repair").delete()
    pipeline = import_process_template((shipped_dir / "repair.yaml").read_text(encoding="utf-8"))
    main = list(pipeline.stages.filter(is_side=False).order_by("position").values_list("id", flat=True))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_contact (kind, name, email, phone, messenger_id, language, time_zone, "
            "preferred_channel, channels, delivery_window_start, delivery_window_end, delivery_days, "
            "opted_out_channels, marketing_opt_out, created_at) "
            "SELECT 'person', 'Bench client ' || n, 'bench' || n || '@example.com', '', '', 'en', 'UTC', 'email', "
            "'[]', '00:00', '00:00', '[0,1,2,3,4,5,6]', '[]', false, now() FROM generate_series(1, 1000) n"
        )
        cursor.execute("SELECT min(id) FROM accounts_contact WHERE email LIKE 'bench%%@example.com'")
        first_contact = cursor.fetchone()[0]
        # Each order: opened some time in the last three years, moved every 2 to 50 hours along the
        # main path for (events_per_order - 1) moves, wrapping round the path's stages.
        cursor.execute(
            "INSERT INTO pipelines_order (pipeline_id, number, title, stage_id, client_id, fields, "
            "stage_entered_at, created_at, updated_at) "
            "SELECT %s, n, 'Bench order ' || n, %s, %s + n %% 1000, '{}', opened, opened, opened "
            "FROM (SELECT n, now() - (random() * interval '1095 days') AS opened "
            "      FROM generate_series(1, %s) n) o",
            [pipeline.pk, main[0], first_contact, orders],
        )
        cursor.execute("UPDATE pipelines_pipeline SET last_number = %s WHERE id = %s", [orders, pipeline.pk])
        cursor.execute(
            "INSERT INTO pipelines_orderevent (order_id, kind, audience, from_stage_id, to_stage_id, message, "
            "data, created_at, from_stage_entered_at) "
            "SELECT o.id, CASE WHEN g = 0 THEN 'order.created' ELSE 'order.stage_changed' END, 'client', "
            "CASE WHEN g = 0 THEN NULL ELSE (%s::int[])[1 + (g - 1) %% %s] END, "
            "(%s::int[])[1 + g %% %s], '', '{}', "
            "o.created_at + g * (interval '2 hours' + (o.id %% 48) * interval '1 hour'), "
            "CASE WHEN g = 0 OR %s THEN NULL "
            "ELSE o.created_at + (g - 1) * (interval '2 hours' + (o.id %% 48) * interval '1 hour') END "
            "FROM pipelines_order o CROSS JOIN generate_series(0, %s) g WHERE o.pipeline_id = %s",
            [main, len(main), main, len(main), without_entry_times, events_per_order - 1, pipeline.pk],
        )
        cursor.execute("ANALYZE pipelines_order")
        cursor.execute("ANALYZE pipelines_orderevent")
    print(f"filled in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
