"""What a rule's actions do, each run as its own scheduled job (retried with backoff, failing alone).

The job's payload names the rule run and the action's index; its idempotency key is
"rule-run:<run>:action:<index>", and a rule run exists once per (rule, event), so a retried event
task never acts twice. Events an action writes are remembered with the chain of rules that caused
them (EventCause), which is what the loop guard in the engine reads.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.business_calendar import BusinessCalendar
from orderflow.accounts.models import User
from orderflow.automation.messages import fill, in_language, placeholder_values
from orderflow.automation.models import Assignment, EventCause, RuleRun, ScheduledJob
from orderflow.automation.schedule import OutsideWork, PermanentJobError, handles
from orderflow.notifications.models import Channel
from orderflow.notifications.services import queue_email
from orderflow.pipelines.models import Order, OrderEvent
from orderflow.pipelines.services import create_task, move_order, record_event, update_order

SIGNATURE_HEADER = "X-Orderflow-Signature"


@dataclass(frozen=True)
class ActionOutcome:
    """What an action did: a line for the rule log and timeline, and data for the RULE_ACTED event."""

    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@handles(ScheduledJob.Kind.RULE_ACTION)
def run_rule_action(job: ScheduledJob) -> str | OutsideWork:
    """Do action `index` of the rule run; record what happened on the run and the timeline.

    A webhook is not called here, inside the job's transaction: it is handed back as OutsideWork,
    so the schedule makes the HTTP call with no transaction open and no row locked, then records
    the answer in a new transaction (`_finish_webhook`).
    """
    run = RuleRun.objects.select_for_update().select_related("rule", "event").get(pk=job.payload["run"])
    index = int(job.payload["action"])
    action = run.rule.actions[index]
    order = Order.objects.select_related("client", "pipeline", "stage", "owner").get(pk=run.order_id)
    if action["type"] == "webhook":
        request = webhook_request(action, order=order, run=run)
        timeout = int(action.get("timeout", 10))
        return OutsideWork(call=lambda: post_webhook(request, timeout=timeout), finish=_finish_webhook)
    before = order.events.aggregate(last=Max("id"))["last"] or 0
    outcome = _perform(action, order=order, run=run, job=job)
    _record_done(job, run, order, outcome, events_after=before)
    return outcome.detail


def _finish_webhook(job: ScheduledJob, status: Any) -> str:
    """The webhook answered 2xx: record the action as done (runs in a new transaction, job locked)."""
    run = RuleRun.objects.select_for_update().select_related("rule", "event").get(pk=job.payload["run"])
    order = Order.objects.select_related("client", "pipeline", "stage", "owner").get(pk=run.order_id)
    outcome = ActionOutcome(_("Webhook answered %(status)s") % {"status": status})
    _record_done(job, run, order, outcome, events_after=None)
    return outcome.detail


def _record_done(
    job: ScheduledJob, run: RuleRun, order: Order, outcome: ActionOutcome, *, events_after: int | None
) -> None:
    """Mark the action done on its run, remember the rule chain of events it wrote, append RULE_ACTED."""
    index = int(job.payload["action"])
    chain = [*job.payload.get("chain", []), run.rule_id]
    if events_after is not None:
        for event_id in order.events.filter(id__gt=events_after).values_list("id", flat=True):
            EventCause.objects.get_or_create(
                event_id=event_id, defaults={"rule_id": run.rule_id, "chain": chain}
            )
    _note(run, index, "done", outcome.detail)
    acted = record_event(
        order,
        OrderEvent.Kind.RULE_ACTED,
        by=None,
        message=f"{run.rule.name}: {outcome.detail}",
        data={**outcome.data, "rule": run.rule.key, "run": run.pk, "action": index},
    )
    EventCause.objects.get_or_create(event=acted, defaults={"rule_id": run.rule_id, "chain": chain})


def _note(run: RuleRun, index: int, status: str, detail: str) -> None:
    entries = list(run.actions or [])
    while len(entries) <= index:
        entries.append({"type": run.rule.actions[len(entries)]["type"], "status": "pending", "detail": ""})
    entries[index] = {**entries[index], "status": status, "detail": detail[:500]}
    run.actions = entries
    statuses = {entry["status"] for entry in entries}
    if "failed" in statuses:
        run.outcome = RuleRun.Outcome.FAILED
    elif statuses == {"done"}:
        run.outcome = RuleRun.Outcome.ACTED
    run.save(update_fields=["actions", "outcome"])


def note_action_failed(job: ScheduledJob, message: str) -> None:
    """Show a job that gave up on its rule run (called by the schedule when a job fails for good)."""
    if job.kind != ScheduledJob.Kind.RULE_ACTION:
        return
    run = RuleRun.objects.select_for_update().select_related("rule").filter(pk=job.payload.get("run")).first()
    if run is not None:
        _note(run, int(job.payload["action"]), "failed", message)


def _perform(action: dict[str, Any], *, order: Order, run: RuleRun, job: ScheduledJob) -> ActionOutcome:
    kind = action["type"]
    if kind == "send_email":
        return ActionOutcome(_send_email(action, order=order, run=run, index=int(job.payload["action"])))
    if kind == "send_request":
        return ActionOutcome(_send_request(action, order=order))
    if kind == "send_booking_invitation":
        return _send_booking_invitation(action, order=order)
    return ActionOutcome(_change_order(action, order=order, run=run))


def _send_booking_invitation(action: dict[str, Any], *, order: Order) -> ActionOutcome:
    """E-mail the client a booking link (the scheduling app's service, which records booking.invited:
    that event, not this action's rule.acted, starts the "book your call" reminders)."""
    from orderflow.scheduling.models import BookingType
    from orderflow.scheduling.services import BookingError, send_booking_invitation

    booking_type = BookingType.objects.filter(name=action["booking_type"]).order_by("id").first()
    if booking_type is None:
        raise PermanentJobError(
            _("The kind of call “%(name)s” no longer exists.") % {"name": action["booking_type"]}
        )
    try:
        invitation, _link = send_booking_invitation(order, booking_type, by=None)
    except BookingError as error:
        raise PermanentJobError(error.message) from error
    detail = _("Booking link for “%(call)s” sent to %(client)s") % {
        "call": booking_type.name,
        "client": order.client.name,
    }
    return ActionOutcome(detail, {"invitation": invitation.pk, "booking_type": booking_type.pk})


def _change_order(action: dict[str, Any], *, order: Order, run: RuleRun) -> str:
    kind = action["type"]
    if kind == "move":
        stage = order.pipeline.stages.filter(key=action["stage"]).first()
        if stage is None:
            raise PermanentJobError(_("The stage “%(key)s” no longer exists.") % {"key": action["stage"]})
        if order.stage_id == stage.pk:
            return _("Already in “%(stage)s”") % {"stage": stage.name}
        move_order(order, stage, by=None, reason=_("Rule: %(rule)s") % {"rule": run.rule.name})
        return _("Moved to “%(stage)s”") % {"stage": stage.name}
    if kind == "assign_owner":
        owner = _next_in_round_robin(action["group"])
        if owner is None:
            raise PermanentJobError(_("Nobody active has the role %(role)s.") % {"role": action["group"]})
        update_order(order, by=None, owner=owner)
        return _("Assigned to %(person)s") % {"person": owner}
    if kind == "create_task":
        assignee = order.owner
        if assignee is None:
            raise PermanentJobError(_("The order has no owner to give the task to."))
        due = None
        if action.get("due_days"):
            due = BusinessCalendar.of_organisation().add_business_days(
                timezone.now(), int(action["due_days"])
            )
        title = fill(action["title"], placeholder_values(order))
        create_task(title=title, assignee=assignee, by=None, order=order, due_at=due)
        return _("Task for %(person)s: %(title)s") % {"person": assignee, "title": title}
    if kind == "add_tag":
        names = sorted({*order.tags.values_list("name", flat=True), action["tag"]})
        update_order(order, by=None, tags=names)
        return _("Tagged “%(tag)s”") % {"tag": action["tag"]}
    raise PermanentJobError(_("Unknown action %(type)r.") % {"type": kind})


def _send_email(action: dict[str, Any], *, order: Order, run: RuleRun, index: int) -> str:
    if action.get("to", "client") == "owner":
        if order.owner is None or not order.owner.email:
            raise PermanentJobError(_("The order has no owner with an e-mail address."))
        recipient, language, contact = order.owner.email, order.owner.language, None
    else:
        if not order.client.email:
            raise PermanentJobError(_("The client has no e-mail address."))
        if Channel.EMAIL in (order.client.opted_out_channels or []):
            # The client's choice, not a failure to retry: the rule log and the timeline say so.
            return _("No e-mail sent: %(client)s has refused e-mail") % {"client": order.client.name}
        recipient, language, contact = order.client.email, order.client.language, order.client
    values = placeholder_values(order)
    if "template" in action:
        from django.template.loader import render_to_string
        from django.utils import translation

        with translation.override(language):
            context = {**values, "order": order, "client": order.client}
            name = action["template"]
            subject = str(render_to_string(f"notifications/email/{name}_subject.txt", context)).strip()
            body = str(render_to_string(f"notifications/email/{name}.txt", context))
    else:
        subject = fill(in_language(action["subject"], language), values)
        body = fill(in_language(action["body"], language), values)
    queue_email(
        key=f"rule-run:{run.pk}:action:{index}",
        recipient=recipient,
        subject=subject,
        body_text=body,
        language=language,
        contact=contact,
        order_id=order.pk,
    )
    return _("E-mail to %(recipient)s: %(subject)s") % {"recipient": recipient, "subject": subject}


def _send_request(action: dict[str, Any], *, order: Order) -> str:
    """Send the library form named in the action to the order's client (the client requests app's service)."""
    from orderflow.client_requests.models import FormTemplate
    from orderflow.client_requests.services import RecipientSpec, send_request

    form = FormTemplate.objects.filter(name=action["form"], is_template=True).order_by("id").first()
    if form is None:
        raise PermanentJobError(_("The request form “%(name)s” no longer exists.") % {"name": action["form"]})
    client = order.client
    if not client.email:
        raise PermanentJobError(_("The client has no e-mail address."))
    message = fill(action.get("message", ""), placeholder_values(order))
    recipient = RecipientSpec(name=client.name, email=client.email, language=client.language, contact=client)
    request = send_request(order, form=form, recipients=[recipient], by=None, message=message)
    return _("Request “%(title)s” sent to %(client)s") % {"title": request.title, "client": client.name}


def _next_in_round_robin(role: str) -> User | None:
    """The active member of `role` who was given an order by a rule least recently (never: first)."""
    members = list(User.objects.filter(groups__name=role, is_active=True).order_by("id"))
    if not members:
        return None
    last = dict(Assignment.objects.filter(user__in=members).values_list("user_id", "last_assigned_at"))
    never = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    chosen = min(members, key=lambda user: (last.get(user.pk, never), user.pk))
    Assignment.objects.update_or_create(user=chosen, defaults={"last_assigned_at": timezone.now()})
    return chosen


def webhook_body(order: Order, run: RuleRun) -> bytes:
    """The JSON posted to a webhook: the rule, the event that triggered it and the order's state."""
    event = run.event
    payload = {
        "rule": run.rule.key,
        "event": {"id": event.pk, "kind": event.kind, "at": event.created_at.isoformat(), "data": event.data},
        "order": {
            "id": order.pk,
            "number": order.reference,
            "title": order.title,
            "pipeline": order.pipeline.slug,
            "stage": order.stage.key,
            "fields": order.fields,
        },
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def sign(body: bytes, secret: str) -> str:
    """HMAC-SHA256 of the body with the rule's secret, as "sha256=<hex>" (the receiver recomputes it)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_request(action: dict[str, Any], *, order: Order, run: RuleRun) -> urllib.request.Request:
    """The signed POST of a webhook action, built from the database (call it inside the transaction)."""
    body = webhook_body(order, run)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Orderflow",
        "X-Orderflow-Delivery": f"{run.pk}",
    }
    if action.get("secret"):
        headers[SIGNATURE_HEADER] = sign(body, action["secret"])
    return urllib.request.Request(action["url"], data=body, headers=headers, method="POST")


def post_webhook(request: urllib.request.Request, *, timeout: int) -> int:
    """Send the POST (outside any transaction); a network error, timeout or non-2xx answer raises OSError,
    so the job is retried with backoff."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        raise OSError(f"webhook answered HTTP {error.code}") from None
    except TimeoutError:
        raise OSError(f"webhook did not answer within {timeout} s") from None
