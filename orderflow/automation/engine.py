"""What happens after an order event is committed: built-in reactions, reminders and rules.

The stage-change e-mail to the client stays a built-in reaction. Then reminder sequences start or
stop, and every active rule of the order's pipeline is matched: one RuleRun per (rule, event), and
one scheduled job per action, so a retried task never acts twice and a failing action fails alone.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.business_calendar import BusinessCalendar
from orderflow.automation.models import EventCause, Rule, RuleRun, ScheduledJob
from orderflow.automation.reminders import start_reminders_for, stop_reminders_for
from orderflow.automation.schedule import dispatch_soon, handles, schedule_job
from orderflow.notifications.services import notify_client_of_stage_change
from orderflow.pipelines.models import Order, OrderEvent

# A chain of rules, each acting on the event the one before wrote, stops at this length.
MAX_CHAIN = 8
# Events that are automation's own bookkeeping: no rule is triggered by them, and they are not activity.
QUIET_KINDS = (
    OrderEvent.Kind.RULE_ACTED,
    OrderEvent.Kind.REMINDER_SENT,
    OrderEvent.Kind.REMINDERS_STOPPED,
    OrderEvent.Kind.NOTIFICATION_SENT,
    OrderEvent.Kind.NOTIFICATION_FAILED,
)


def react_to_event(event: OrderEvent) -> None:
    """Run every reaction to `event`. Each reaction is idempotent, so a retried task never acts twice."""
    if event.kind == OrderEvent.Kind.STAGE_CHANGED:
        notify_client_of_stage_change(event)
    if event.kind in QUIET_KINDS:
        return
    stop_reminders_for(event)
    start_reminders_for(event)
    run_rules_for(event)


def trigger_matches(trigger: dict[str, Any], event: OrderEvent) -> bool:
    """Whether the rule's trigger is this event (stage.inactive is matched by its scheduled check)."""
    kind = trigger.get("kind")
    if kind == "order.created":
        return event.kind == OrderEvent.Kind.CREATED
    if kind == "stage.entered":
        return (
            event.kind == OrderEvent.Kind.STAGE_CHANGED
            and getattr(event.to_stage, "key", None) == trigger["stage"]
        )
    if kind == "stage.left":
        return (
            event.kind == OrderEvent.Kind.STAGE_CHANGED
            and getattr(event.from_stage, "key", None) == trigger["stage"]
        )
    if kind in ("stage.inactive", "bid.deadline_passed"):
        return False
    return event.kind == kind


def _value_of(order: Order, field: str) -> Any:
    if field == "stage":
        return order.stage.key
    if field == "owner":
        return order.owner.email if order.owner else None
    if field == "tags":
        return sorted(order.tags.values_list("name", flat=True))
    if field.startswith("fields."):
        value = (order.fields or {}).get(field.removeprefix("fields."))
        return value.get("amount") if isinstance(value, dict) and "amount" in value else value
    if field.startswith("client."):
        return getattr(order.client, field.removeprefix("client."), None)
    return None


def _same(left: Any, right: Any) -> bool:
    return str(left) == str(right) if left is not None and right is not None else left == right


def _holds(op: str, actual: Any, expected: Any) -> bool:
    empty = actual in (None, "", [], {})
    if op == "equals":
        return _same(actual, expected)
    if op == "not_equals":
        return not _same(actual, expected)
    if op == "in":
        return any(_same(actual, item) for item in expected)
    if op == "not_in":
        return not any(_same(actual, item) for item in expected)
    if op == "is_set":
        return not empty
    if op == "is_empty":
        return empty
    return isinstance(actual, list) and any(_same(item, expected) for item in actual)


def failed_condition(conditions: list[dict[str, Any]], order: Order) -> str | None:
    """None if every condition holds on the order as it is now, else why not (for the rule log)."""
    for condition in conditions:
        field, op, expected = condition["field"], condition.get("op", "equals"), condition.get("value")
        actual = _value_of(order, field)
        empty = actual in (None, "", [], {})
        holds = _holds(op, actual, expected)
        if not holds:
            return _("%(field)s %(op)s %(value)s is not true (it is %(actual)s)") % {
                "field": field,
                "op": op,
                "value": "" if expected is None else expected,
                "actual": actual if not empty else "-",
            }
    return None


def run_rules_for(event: OrderEvent) -> list[RuleRun]:
    """Match every active rule of the order's pipeline to `event`; schedule the actions of those that hold."""
    order = event.order
    runs = []
    rules = Rule.objects.filter(pipeline_id=order.pipeline_id, is_active=True).order_by("position", "id")
    matching = [rule for rule in rules if trigger_matches(rule.trigger, event)]
    if event.kind == OrderEvent.Kind.STAGE_CHANGED:
        _schedule_inactivity_checks(
            event, [rule for rule in rules if rule.trigger.get("kind") == "stage.inactive"]
        )
    job_ids: list[int] = []
    for rule in matching:
        run = evaluate_rule(rule, event, dispatch=False)
        if run is not None:
            runs.append(run)
            job_ids += ScheduledJob.objects.filter(
                kind=ScheduledJob.Kind.RULE_ACTION, idempotency_key__startswith=f"rule-run:{run.pk}:"
            ).values_list("id", flat=True)
    # One task for all of them, so the actions of the event's rules run in rule order.
    dispatch_soon(job_ids)
    return runs


def evaluate_rule(rule: Rule, event: OrderEvent, *, dispatch: bool = True) -> RuleRun | None:
    """Log the rule run for (rule, event) and schedule its actions; None if it already ran (a retry).

    With `dispatch`, a worker is asked to run the actions after commit; else the caller does that.
    """
    order = Order.objects.select_related("client", "stage", "owner", "pipeline").get(pk=event.order_id)
    cause = EventCause.objects.filter(event=event).first()
    chain = list(cause.chain) if cause else []
    outcome, reason = RuleRun.Outcome.MATCHED, ""
    if rule.pk in chain or len(chain) >= MAX_CHAIN:
        names = dict(Rule.objects.filter(pk__in=chain).values_list("pk", "name"))
        outcome = RuleRun.Outcome.LOOP_STOPPED
        reason = _("Stopped a loop: %(chain)s would trigger “%(rule)s” again") % {
            "chain": " → ".join(names.get(pk, str(pk)) for pk in chain),
            "rule": rule.name,
        }
    elif (why := failed_condition(rule.conditions or [], order)) is not None:
        outcome, reason = RuleRun.Outcome.SKIPPED, why
    try:
        with transaction.atomic():
            run = RuleRun.objects.create(
                rule=rule,
                event=event,
                order=order,
                outcome=outcome,
                reason=reason[:300],
                actions=[
                    {"type": action["type"], "status": "pending", "detail": ""}
                    for action in (rule.actions if outcome == RuleRun.Outcome.MATCHED else [])
                ],
            )
    except IntegrityError:
        return None  # this rule already ran for this event: a retried task
    if outcome != RuleRun.Outcome.MATCHED:
        return run
    jobs = [
        schedule_job(
            key=f"rule-run:{run.pk}:action:{index}",
            kind=ScheduledJob.Kind.RULE_ACTION,
            due_at=timezone.now(),
            payload={"run": run.pk, "action": index, "chain": chain},
            order_id=order.pk,
        )
        for index in range(len(rule.actions))
    ]
    if dispatch:
        dispatch_soon([job.pk for job in jobs])
    return run


def _schedule_inactivity_checks(event: OrderEvent, rules: list[Rule]) -> None:
    """An order entering a stage with an inactivity rule gets a check N business days later."""
    targets = [rule for rule in rules if getattr(event.to_stage, "key", None) == rule.trigger.get("stage")]
    if not targets:
        return
    calendar = BusinessCalendar.of_organisation()
    for rule in targets:
        schedule_job(
            key=f"inactivity:{rule.pk}:{event.pk}",
            kind=ScheduledJob.Kind.INACTIVITY_CHECK,
            due_at=calendar.add_business_days(event.created_at, int(rule.trigger["days"])),
            payload={"rule": rule.pk, "event": event.pk},
            order_id=event.order_id,
        )


@handles(ScheduledJob.Kind.INACTIVITY_CHECK)
def check_inactivity(job: ScheduledJob) -> str:
    """Fire the rule if the order is still in the stage and nothing happened for N business days."""
    rule = Rule.objects.filter(pk=job.payload["rule"], is_active=True).first()
    event = OrderEvent.objects.select_related("order", "to_stage").get(pk=job.payload["event"])
    if rule is None:
        return "skipped: rule gone or inactive"
    order = event.order
    moved_since = order.events.filter(kind=OrderEvent.Kind.STAGE_CHANGED, id__gt=event.pk).exists()
    if moved_since:
        return "skipped: the order left the stage"
    last = (
        order.events.filter(id__gte=event.pk)
        .exclude(kind__in=QUIET_KINDS)
        .order_by("-created_at", "-id")
        .first()
    )
    calendar = BusinessCalendar.of_organisation()
    quiet_until = calendar.add_business_days(
        last.created_at if last else event.created_at, int(rule.trigger["days"])
    )
    if quiet_until > timezone.now():
        job.due_at = quiet_until
        job.status = ScheduledJob.Status.PENDING
        return "rescheduled: there was activity"
    run = evaluate_rule(rule, event)
    return f"rule run {run.pk}: {run.outcome}" if run else "already ran"
