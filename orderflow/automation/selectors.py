"""Reads of automation for the staff pages: rules, their run log, failed jobs, an order's reminders."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet

from orderflow.automation.describe import Describer
from orderflow.automation.models import Reminder, ReminderSequence, Rule, RuleRun, ScheduledJob
from orderflow.automation.reminders import NextReminder, next_reminder_for
from orderflow.pipelines.models import FieldDefinition, Order, Stage

__all__ = ["NextReminder", "next_reminder_for"]


def rules_for_staff() -> QuerySet[Rule]:
    """Every rule with its pipeline and how its runs went (counts), by pipeline and position."""
    return (
        Rule.objects.select_related("pipeline")
        .annotate(
            acted=Count("runs", filter=Q(runs__outcome=RuleRun.Outcome.ACTED)),
            failed=Count("runs", filter=Q(runs__outcome=RuleRun.Outcome.FAILED)),
            loops=Count("runs", filter=Q(runs__outcome=RuleRun.Outcome.LOOP_STOPPED)),
        )
        .order_by("pipeline__name", "position", "id")
    )


def sequences_for_staff() -> QuerySet[ReminderSequence]:
    return (
        ReminderSequence.objects.select_related("pipeline")
        .annotate(running=Count("reminders", filter=Q(reminders__status=Reminder.Status.ACTIVE)))
        .order_by("pipeline__name", "id")
    )


def rule_runs(*, outcome: str = "", limit: int = 200) -> QuerySet[RuleRun]:
    """The latest rule runs (the log staff read), optionally only one outcome."""
    runs = RuleRun.objects.select_related("rule", "event", "order__pipeline").order_by("-created_at", "-id")
    if outcome:
        runs = runs.filter(outcome=outcome)
    return runs[:limit]


def failed_jobs(*, limit: int = 100) -> QuerySet[ScheduledJob]:
    """Scheduled work that gave up (or is retrying after an error), newest first."""
    return (
        ScheduledJob.objects.select_related("order__pipeline")
        .filter(Q(status=ScheduledJob.Status.FAILED) | Q(status=ScheduledJob.Status.PENDING, attempts__gt=0))
        .order_by("-finished_at", "-id")[:limit]
    )


def reminders_of(order: Order) -> QuerySet[Reminder]:
    """The order's reminders, running ones first, for the order card's controls."""
    return (
        Reminder.objects.select_related("sequence")
        .filter(order=order)
        .order_by("status", "next_due_at", "id")
    )


def describers_for(pipeline_ids: Iterable[int]) -> dict[int, Describer]:
    """A Describer per pipeline (its stage names and field labels), in two queries for any number."""
    ids = set(pipeline_ids)
    stages: dict[int, dict[str, str]] = {pipeline_id: {} for pipeline_id in ids}
    fields: dict[int, dict[str, str]] = {pipeline_id: {} for pipeline_id in ids}
    for pipeline_id, key, name in Stage.objects.filter(pipeline_id__in=ids).values_list(
        "pipeline_id", "key", "name"
    ):
        stages[pipeline_id][key] = name
    for pipeline_id, key, label in FieldDefinition.objects.filter(pipeline_id__in=ids).values_list(
        "pipeline_id", "key", "label"
    ):
        fields[pipeline_id][key] = label
    return {pipeline_id: Describer(stages[pipeline_id], fields[pipeline_id]) for pipeline_id in ids}
