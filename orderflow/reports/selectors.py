"""The pipeline reports, computed in the database: a funnel and time in stage over a period.

Both read the timeline (OrderEvent), never a second copy of it, in one query each, whatever the
number of orders, using the indexes `pipelines_order_opened` (a pipeline's orders by creation) and
`pipelines_event_left_stage` (moves out of a stage by time):

- Funnel: the orders a pipeline opened in the period, and for each stage of its main path how many of
  them reached it, or a later main stage, by the end of the period (an order that skipped a stage is
  counted as having passed it). Conversion is the share of one step that reached the next. The
  database finds each order's furthest stage and counts orders per furthest stage.
- Time in stage: every stay in a stage that ended in the period (the order moved on), from when the
  order entered the stage (kept on the move, OrderEvent.from_stage_entered_at; for older moves, the
  event that brought it in) to the move out. Median and 90th percentile are interpolated between
  the two nearest stays: PostgreSQL's percentile_cont there, elsewhere the same interpolation over
  the two stays around each percentile, found with a window (at most four rows per stage come back).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Case, IntegerField, Max, Value, When

from orderflow.pipelines.models import OrderEvent, Pipeline, Stage

ENTERING_KINDS = (OrderEvent.Kind.CREATED, OrderEvent.Kind.STAGE_CHANGED)


@contextmanager
def report_queries() -> Iterator[None]:
    """Run the report queries inside this. On PostgreSQL it turns JIT compilation off for them (one
    transaction, SET LOCAL): measured with a million orders, JIT took 1.8 s of a 1.9 s time-in-stage
    query, because the planner prices the fallback lookup of older moves as if it ran for every row.
    Elsewhere it does nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


@dataclass(frozen=True)
class Period:
    """From `start` (inclusive) to `end` (exclusive), aware datetimes; the days as the viewer named them."""

    start: datetime.datetime
    end: datetime.datetime
    first_day: datetime.date
    last_day: datetime.date

    @classmethod
    def of_days(cls, first_day: datetime.date, last_day: datetime.date, *, zone: datetime.tzinfo) -> Period:
        """The whole days `first_day` to `last_day` (both included) in the time zone `zone`."""
        start = datetime.datetime.combine(first_day, datetime.time(0), tzinfo=zone)
        end = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time(0), tzinfo=zone)
        return cls(start=start, end=end, first_day=first_day, last_day=last_day)


@dataclass(frozen=True)
class FunnelStep:
    stage: Stage
    reached: int
    # Of the orders that reached this stage, the share that reached the next one (None for the last).
    conversion: Decimal | None
    # This step's orders as a share of the first step's (0..100), for the bar.
    share: Decimal


def _percent(part: int, whole: int) -> Decimal:
    return (
        (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if whole
        else Decimal(0)
    )


def funnel(pipeline: Pipeline, period: Period, *, stages: Sequence[Stage] | None = None) -> list[FunnelStep]:
    """The main path of `pipeline` with how many of the orders opened in `period` reached each stage.

    `stages` are the pipeline's stages if the caller has read them already. Two queries at most.
    """
    if stages is None:
        stages = list(pipeline.stages.order_by("position", "id"))
    main = [stage for stage in stages if not stage.is_side]
    if not main:
        return []
    ids = [stage.pk for stage in main]
    # Per order, the furthest main stage it entered by the period's end (its index on the path) ...
    per_order = (
        OrderEvent.objects.filter(
            order__pipeline=pipeline,
            order__created_at__gte=period.start,
            order__created_at__lt=period.end,
            kind__in=ENTERING_KINDS,
            to_stage_id__in=ids,
            created_at__lt=period.end,
        )
        .order_by()
        .values("order_id")
        .annotate(
            furthest=Max(
                Case(
                    *(When(to_stage_id=stage_id, then=Value(index)) for index, stage_id in enumerate(ids)),
                    output_field=IntegerField(),
                )
            )
        )
    )
    # ... then how many orders got that far: one hash aggregate, not a distinct count per step.
    inner, params = per_order.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT per_order.furthest, COUNT(*) FROM ({inner}) per_order GROUP BY per_order.furthest",
            params,
        )
        furthest = dict(cursor.fetchall())
    reached = [sum(count for index, count in furthest.items() if index >= step) for step in range(len(ids))]
    first = reached[0]
    return [
        FunnelStep(
            stage=stage,
            reached=reached[index],
            conversion=_percent(reached[index + 1], reached[index]) if index + 1 < len(reached) else None,
            share=_percent(reached[index], first),
        )
        for index, stage in enumerate(main)
    ]


@dataclass(frozen=True)
class StageTime:
    """How long stays in a stage lasted (seconds), over the stays that ended in the period."""

    stage: Stage
    stays: int
    median: float | None
    p90: float | None
    # The median and 90th percentile as shares (0..100) of the longest 90th percentile, for the bars.
    median_share: Decimal = Decimal(0)
    p90_share: Decimal = Decimal(0)


def _seconds_between(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    if connection.vendor == "sqlite":
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
    raise NotImplementedError(f"time in stage is not written for {connection.vendor}")


_RANKS_SQL = """
WITH stays AS (
    SELECT e.from_stage_id AS stage_id, {seconds} AS seconds
    FROM {events} e
    WHERE e.kind = %s AND e.from_stage_id IN ({stage_ids})
      AND e.created_at >= %s AND e.created_at < %s
), ranked AS (
    SELECT stage_id, seconds,
           ROW_NUMBER() OVER (PARTITION BY stage_id ORDER BY seconds NULLS LAST) - 1 AS position,
           COUNT(seconds) OVER (PARTITION BY stage_id) AS total
    FROM stays
)
SELECT stage_id, total, position, seconds FROM ranked
WHERE total > 0 AND position < total
  AND position IN ((total - 1) / 2, total / 2, (9 * (total - 1)) / 10, (9 * (total - 1) + 9) / 10)
ORDER BY stage_id, position
"""

# PostgreSQL has the percentiles built in: one sort per stage, no window over every stay.
_PERCENTILES_SQL = """
SELECT stays.stage_id, COUNT(stays.seconds),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY stays.seconds),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY stays.seconds)
FROM (
    SELECT e.from_stage_id AS stage_id, {seconds} AS seconds
    FROM {events} e
    WHERE e.kind = %s AND e.from_stage_id IN ({stage_ids})
      AND e.created_at >= %s AND e.created_at < %s
) stays
GROUP BY stays.stage_id
HAVING COUNT(stays.seconds) > 0
"""

# When the order had entered the stage it left: kept on the move itself, else (moves recorded before
# it was kept) the latest event that brought the order into that stage, found by the timeline index.
_ENTERED_AT_SQL = """COALESCE(e.from_stage_entered_at, (
    SELECT MAX(entered.created_at) FROM {events} entered
    WHERE entered.order_id = e.order_id AND entered.to_stage_id = e.from_stage_id
      AND entered.kind IN (%s, %s) AND entered.created_at <= e.created_at AND entered.id < e.id
))"""


def _interpolated(values: dict[int, float], total: int, numerator: int, denominator: int) -> float:
    """percentile_cont at numerator/denominator over `total` sorted values, given the ones around it."""
    exact = (total - 1) * numerator / denominator
    low = (total - 1) * numerator // denominator
    high = ((total - 1) * numerator + denominator - 1) // denominator
    return values[low] + (exact - low) * (values[high] - values[low])


def time_in_stage(
    pipeline: Pipeline, period: Period, *, stages: Sequence[Stage] | None = None
) -> list[StageTime]:
    """For each stage of `pipeline` (main path first, then side statuses), the median and 90th
    percentile of the stays that ended in `period`, in seconds (None when no stay ended there)."""
    if stages is None:
        stages = list(pipeline.stages.order_by("position", "id"))
    ordered = sorted(stages, key=lambda stage: (stage.is_side, stage.position, stage.pk))
    if not ordered:
        return []
    found = _stay_percentiles([stage.pk for stage in ordered], period)
    rows: list[StageTime] = []
    for stage in ordered:
        stays, median, p90 = found.get(stage.pk, (0, None, None))
        rows.append(StageTime(stage=stage, stays=stays, median=median, p90=p90))
    longest = max((row.p90 or 0 for row in rows), default=0)
    if longest <= 0:
        return rows
    return [
        StageTime(
            stage=row.stage,
            stays=row.stays,
            median=row.median,
            p90=row.p90,
            median_share=_share(row.median, longest),
            p90_share=_share(row.p90, longest),
        )
        for row in rows
    ]


def _stay_percentiles(stage_ids: list[int], period: Period) -> dict[int, tuple[int, float, float]]:
    """(stays, median, 90th percentile) in seconds by stage id, for the stays that ended in `period`."""
    events = connection.ops.quote_name(OrderEvent._meta.db_table)
    template = _PERCENTILES_SQL if connection.vendor == "postgresql" else _RANKS_SQL
    sql = template.format(
        seconds=_seconds_between("e.created_at", _ENTERED_AT_SQL.format(events=events)),
        events=events,
        stage_ids=", ".join(["%s"] * len(stage_ids)),
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        *ENTERING_KINDS,
        OrderEvent.Kind.STAGE_CHANGED,
        *stage_ids,
        adapt(period.start),
        adapt(period.end),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return {stage_id: (int(total), float(median), float(p90)) for stage_id, total, median, p90 in rows}
    ranked: dict[int, tuple[int, dict[int, float]]] = {}
    for stage_id, total, position, seconds in rows:
        ranked.setdefault(stage_id, (int(total), {}))[1][int(position)] = float(seconds)
    return {
        stage_id: (total, _interpolated(values, total, 1, 2), _interpolated(values, total, 9, 10))
        for stage_id, (total, values) in ranked.items()
    }


def _share(value: float | None, longest: float) -> Decimal:
    if not value:
        return Decimal(0)
    return (Decimal(100) * Decimal(str(value)) / Decimal(str(longest))).quantize(Decimal("0.1"))
