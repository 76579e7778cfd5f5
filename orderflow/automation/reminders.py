"""Reminder sequences on orders: start on the awaited thing being sent, remind, stop when it happens.

Step n is due `steps[n].days` business days after the start event, at the sequence's time of day in
the organisation's calendar and time zone (so 09:00 stays 09:00 across DST). One scheduled job per
step at a time; sending a step schedules the next, and the last one gives the owner a task.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.business_calendar import BusinessCalendar
from orderflow.accounts.models import Organisation
from orderflow.automation.messages import fill, in_language, placeholder_values
from orderflow.automation.models import Reminder, ReminderSequence, ScheduledJob
from orderflow.automation.schedule import cancel_jobs, dispatch_soon, handles, schedule_job
from orderflow.errors import DomainError
from orderflow.notifications.channels import adapter_for
from orderflow.notifications.channels.email import order_reply_address
from orderflow.notifications.models import Channel
from orderflow.notifications.services import queue_message, reachable_channels
from orderflow.pipelines.models import Order, OrderEvent
from orderflow.pipelines.services import create_task, record_event


class ReminderError(DomainError):
    code = "reminder_invalid"


def step_due_at(
    sequence: ReminderSequence, started_at: datetime.datetime, step: int, calendar: BusinessCalendar
) -> datetime.datetime:
    """When step `step` (0-based) falls due: its business-day offset, at the sequence's local time."""
    days = int(sequence.steps[step]["days"])
    day = calendar.add_business_days(started_at, days).astimezone(calendar.zone).date()
    wall = datetime.datetime.combine(day, sequence.send_at, tzinfo=calendar.zone)
    return wall.astimezone(datetime.UTC)


def _job_key(reminder: Reminder, step: int) -> str:
    return f"reminder:{reminder.pk}:step:{step}"


def _schedule_step(
    reminder: Reminder, calendar: BusinessCalendar, *, due_at: datetime.datetime | None = None
) -> None:
    """Schedule the reminder's next step (its own due time unless `due_at` says otherwise)."""
    step = reminder.next_step
    due = due_at or step_due_at(reminder.sequence, reminder.started_at, step, calendar)
    key = _job_key(reminder, step)
    # A step rescheduled (resume, send now) gets a fresh row; the old one was cancelled.
    if ScheduledJob.objects.filter(idempotency_key=key).exclude(status=ScheduledJob.Status.PENDING).exists():
        key = f"{key}:{timezone.now().timestamp():.0f}"
    job = schedule_job(
        key=key,
        kind=ScheduledJob.Kind.REMINDER_STEP,
        due_at=due,
        payload={"reminder": reminder.pk, "step": step},
        order_id=reminder.order_id,
    )
    if job.due_at != due and job.status == ScheduledJob.Status.PENDING:
        job.due_at = due
        job.save(update_fields=["due_at"])
    reminder.next_due_at = due


def _sequence_applies(sequence: ReminderSequence, event: OrderEvent, order: Order) -> bool:
    if sequence.start_kind == "stage.entered":
        return (
            event.kind == OrderEvent.Kind.STAGE_CHANGED
            and event.to_stage is not None
            and event.to_stage.key == sequence.start_stage
        )
    # booking.invited is scheduling's own event, recorded for every link sent, by hand or by a rule.
    if event.kind != sequence.start_kind:
        return False
    if sequence.start_stage and order.stage.key != sequence.start_stage:
        return False
    return not sequence.start_form or str((event.data or {}).get("form", "")) == sequence.start_form


def start_reminders_for(event: OrderEvent) -> list[Reminder]:
    """Start every active sequence of the order's pipeline that `event` starts (once per event)."""
    order = event.order
    started = []
    calendar: BusinessCalendar | None = None
    for sequence in ReminderSequence.objects.filter(pipeline_id=order.pipeline_id, is_active=True):
        if not sequence.steps or not _sequence_applies(sequence, event, order):
            continue
        awaited = str((event.data or {}).get(sequence.match_key, "")) if sequence.match_key else ""
        running = Reminder.objects.filter(
            sequence=sequence,
            order=order,
            awaited_id=awaited,
            status__in=[Reminder.Status.ACTIVE, Reminder.Status.PAUSED],
        )
        if awaited and running.exclude(start_event=event).exists():
            continue  # the same request sent again (resent): its reminders already run
        reminder, created = Reminder.objects.get_or_create(
            sequence=sequence,
            start_event=event,
            defaults={"order": order, "awaited_id": awaited, "started_at": event.created_at},
        )
        if not created:
            continue
        calendar = calendar or BusinessCalendar.of_organisation()
        _schedule_step(reminder, calendar)
        reminder.save(update_fields=["next_due_at"])
        started.append(reminder)
    return started


def stop_reminders_for(event: OrderEvent) -> list[Reminder]:
    """Stop the order's running reminders that `event` answers, recording REMINDERS_STOPPED for each.

    Closing the order (a won, lost or cancelled stage) stops them all.
    """
    stopped = []
    running = Reminder.objects.select_related("sequence").filter(
        order_id=event.order_id, status__in=[Reminder.Status.ACTIVE, Reminder.Status.PAUSED]
    )
    for reminder in running:
        sequence = reminder.sequence
        # A sequence tied to a stage runs only while the order is in it (e.g. a call booked by phone
        # and the order moved by hand: no more "book your call" reminders).
        left_stage = (
            bool(sequence.start_stage)
            and event.kind == OrderEvent.Kind.STAGE_CHANGED
            and event.from_stage is not None
            and event.from_stage.key == sequence.start_stage
            and event.pk != reminder.start_event_id
        )
        answered = event.kind in (sequence.stop_kinds or []) and (
            not sequence.match_key
            or str((event.data or {}).get(sequence.match_key, "")) == reminder.awaited_id
        )
        closed = (
            event.kind == OrderEvent.Kind.STAGE_CHANGED
            and event.to_stage is not None
            and event.to_stage.is_closed
        )
        if not (answered or left_stage or closed):
            continue
        if answered:
            reason = _("Answered: %(event)s") % {"event": event.get_kind_display()}
        elif closed:
            reason = _("The order was closed")
        else:
            reason = _("The order left the stage")
        _stop(
            reminder,
            Reminder.Status.ANSWERED if answered else Reminder.Status.STOPPED,
            reason,
            by_event=event,
        )
        stopped.append(reminder)
    return stopped


def _stop(reminder: Reminder, status: str, reason: str, *, by_event: OrderEvent | None = None) -> None:
    cancel_jobs(key_prefix=f"reminder:{reminder.pk}:")
    reminder.status = status
    reminder.stopped_reason = reason[:200]
    reminder.next_due_at = None
    reminder.save(update_fields=["status", "stopped_reason", "next_due_at", "updated_at"])
    record_event(
        reminder.order,
        OrderEvent.Kind.REMINDERS_STOPPED,
        by=None,
        message=f"{reminder.sequence.name}: {reason}",
        data={"reminder": reminder.pk, "sequence": reminder.sequence.key, "sent": reminder.next_step},
    )


@handles(ScheduledJob.Kind.REMINDER_STEP)
def send_reminder_step(job: ScheduledJob) -> str:
    """Send the step the job is for, if the reminder is still waiting for exactly that step."""
    reminder = Reminder.objects.select_for_update().select_related("sequence").get(pk=job.payload["reminder"])
    step = int(job.payload["step"])
    if reminder.status != Reminder.Status.ACTIVE or reminder.next_step != step:
        return f"skipped: reminder {reminder.status}, next step {reminder.next_step}"
    return "sent" if _send_step(reminder, step) else "not sent: the client cannot be reached"


def _send_step(reminder: Reminder, step: int) -> bool:
    """Queue step `step` on the client's first reachable channel, in their language, inside their hours.

    The channel is the first of the client's channels (their order of preference) that they have not
    refused and can be reached on; the outbox holds the message until their delivery window opens.
    A client who cannot be reached on any channel gets nothing: the timeline says so, the reminder
    pauses on that step, and the order's owner gets a task to contact them.
    """
    sequence = reminder.sequence
    order = Order.objects.select_related("client", "pipeline", "stage", "owner").get(pk=reminder.order_id)
    client = order.client
    total = len(sequence.steps)
    channels = reachable_channels(client)
    if not channels:
        _pause_unreachable(reminder, order, step)
        return False
    channel = channels[0]
    definition = sequence.steps[step]
    language = client.language if client.language in definition["subject"] else "en"
    values = placeholder_values(order, step=step + 1, steps=total)
    queue_message(
        key=f"reminder:{reminder.pk}:step:{step}",
        channel=channel,
        recipient=adapter_for(channel).address_for(client) or client.name,
        subject=fill(in_language(definition["subject"], language), values),
        body_text=fill(in_language(definition["body"], language), values),
        language=language,
        contact=client,
        order_id=order.pk,
        reply_to=order_reply_address(order.reference) if channel == Channel.EMAIL else "",
    )
    record_event(
        order,
        OrderEvent.Kind.REMINDER_SENT,
        by=None,
        audience=OrderEvent.Audience.CLIENT,
        message=_("%(sequence)s: reminder %(step)s of %(steps)s")
        % {"sequence": sequence.name, "step": step + 1, "steps": total},
        data={
            "reminder": reminder.pk,
            "sequence": sequence.key,
            "step": step + 1,
            "of": total,
            "channel": channel,
        },
    )
    reminder.next_step = step + 1
    if reminder.next_step < total:
        _schedule_step(reminder, BusinessCalendar.of_organisation())
    else:
        _finish(reminder, order)
    reminder.save(update_fields=["next_step", "next_due_at", "status", "stopped_reason", "updated_at"])
    return True


def _pause_unreachable(reminder: Reminder, order: Order, step: int) -> None:
    """Nothing could be queued: say so on the timeline, pause on this step, and hand it to the owner."""
    client = order.client
    total = len(reminder.sequence.steps)
    reason = _("%(client)s cannot be reached on any channel they accept") % {"client": client.name}
    record_event(
        order,
        OrderEvent.Kind.NOTIFICATION_FAILED,
        by=None,
        message=_("%(sequence)s: reminder %(step)s of %(steps)s not sent: %(reason)s")
        % {"sequence": reminder.sequence.name, "step": step + 1, "steps": total, "reason": reason},
        data={"reminder": reminder.pk, "sequence": reminder.sequence.key, "step": step + 1, "of": total},
    )
    reminder.status = Reminder.Status.PAUSED
    reminder.next_due_at = None
    reminder.stopped_reason = reason[:200]
    if order.owner is not None and order.owner.is_active:
        create_task(
            title=_(
                "Remind %(client)s yourself (%(sequence)s, reminder %(step)s of %(steps)s): they cannot be "
                "reached on any channel they accept; fix their channels and resume the reminders"
            )
            % {"client": client.name, "sequence": reminder.sequence.name, "step": step + 1, "steps": total},
            assignee=order.owner,
            by=None,
            order=order,
            due_at=timezone.now(),
        )
    reminder.save(update_fields=["status", "next_due_at", "stopped_reason", "updated_at"])


def _finish(reminder: Reminder, order: Order) -> None:
    """After the last step: the reminder is finished and the order's owner gets a task to follow up."""
    reminder.status = Reminder.Status.FINISHED
    reminder.next_due_at = None
    if reminder.sequence.escalate and order.owner is not None and order.owner.is_active:
        create_task(
            title=_("No answer after the last reminder (%(sequence)s): contact %(client)s")
            % {"sequence": reminder.sequence.name, "client": order.client.name},
            assignee=order.owner,
            by=None,
            order=order,
            due_at=timezone.now(),
        )
    elif reminder.sequence.escalate:
        reminder.stopped_reason = _("No owner to hand it to")


# --- staff controls -------------------------------------------------------------------------------


def _locked(reminder: Reminder) -> Reminder:
    return Reminder.objects.select_for_update().select_related("sequence", "order").get(pk=reminder.pk)


@transaction.atomic
def pause_reminder(reminder: Reminder) -> Reminder:
    """Hold the reminder: nothing is sent until it is resumed."""
    locked = _locked(reminder)
    if locked.status != Reminder.Status.ACTIVE:
        raise ReminderError(_("Only a running reminder can be paused."), code="reminder_not_active")
    cancel_jobs(key_prefix=f"reminder:{locked.pk}:")
    locked.status = Reminder.Status.PAUSED
    locked.next_due_at = None
    locked.save(update_fields=["status", "next_due_at", "updated_at"])
    return locked


@transaction.atomic
def resume_reminder(reminder: Reminder) -> Reminder:
    """Run a paused reminder again: the next step at its own time, or the next business day if that passed."""
    locked = _locked(reminder)
    if locked.status != Reminder.Status.PAUSED:
        raise ReminderError(_("Only a paused reminder can be resumed."), code="reminder_not_paused")
    calendar = BusinessCalendar.of_organisation()
    due = step_due_at(locked.sequence, locked.started_at, locked.next_step, calendar)
    if due <= timezone.now():
        next_day = calendar.add_business_days(timezone.now(), 1).astimezone(calendar.zone).date()
        due = datetime.datetime.combine(next_day, locked.sequence.send_at, tzinfo=calendar.zone).astimezone(
            datetime.UTC
        )
    locked.status = Reminder.Status.ACTIVE
    locked.stopped_reason = ""
    _schedule_step(locked, calendar, due_at=due)
    locked.save(update_fields=["status", "stopped_reason", "next_due_at", "updated_at"])
    return locked


@transaction.atomic
def skip_reminder_step(reminder: Reminder) -> Reminder:
    """Leave out the next step; the one after it keeps its own date (skipping the last one finishes)."""
    locked = _locked(reminder)
    if locked.status != Reminder.Status.ACTIVE:
        raise ReminderError(_("Only a running reminder can skip a step."), code="reminder_not_active")
    cancel_jobs(key_prefix=f"reminder:{locked.pk}:")
    locked.next_step += 1
    if locked.next_step < len(locked.sequence.steps):
        _schedule_step(locked, BusinessCalendar.of_organisation())
    else:
        _finish(locked, locked.order)
    locked.save(update_fields=["next_step", "next_due_at", "status", "stopped_reason", "updated_at"])
    return locked


@transaction.atomic
def send_reminder_now(reminder: Reminder) -> Reminder:
    """Send the next step now instead of at its time; the steps after it keep their dates."""
    locked = _locked(reminder)
    if locked.status != Reminder.Status.ACTIVE:
        raise ReminderError(_("Only a running reminder can be sent now."), code="reminder_not_active")
    cancel_jobs(key_prefix=f"reminder:{locked.pk}:")
    now = timezone.now()
    _schedule_step(locked, BusinessCalendar.of_organisation(), due_at=now)
    locked.save(update_fields=["next_due_at", "updated_at"])
    job = ScheduledJob.objects.filter(
        payload__reminder=locked.pk, status=ScheduledJob.Status.PENDING, kind=ScheduledJob.Kind.REMINDER_STEP
    ).latest("id")
    dispatch_soon([job.pk])
    return locked


# --- reads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextReminder:
    """What the order card shows: "reminder 2 of 4, Tue 9 Dec 09:00" (due is aware, organisation zone)."""

    reminder: Reminder
    step: int
    steps: int
    due: datetime.datetime

    def __str__(self) -> str:
        from django.utils.formats import date_format

        return _("reminder %(step)s of %(steps)s, %(when)s") % {
            "step": self.step,
            "steps": self.steps,
            "when": date_format(self.due, "D j M H:i"),
        }


def next_reminder_for(order: Order) -> NextReminder | None:
    """The order's soonest pending reminder step, or None; due is in the organisation's zone. Two queries."""
    reminder = (
        Reminder.objects.select_related("sequence")
        .filter(order=order, status=Reminder.Status.ACTIVE, next_due_at__isnull=False)
        .order_by("next_due_at", "id")
        .first()
    )
    if reminder is None or reminder.next_due_at is None:
        return None
    zone = zoneinfo.ZoneInfo(Organisation.current().time_zone)
    return NextReminder(
        reminder=reminder,
        step=reminder.next_step + 1,
        steps=len(reminder.sequence.steps),
        due=reminder.next_due_at.astimezone(zone),
    )
