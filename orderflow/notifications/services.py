"""Queueing and delivering messages. Queueing is idempotent; delivery happens only in a worker.

A message is queued with the earliest time it may go (the recipient's delivery window in their own
zone, unless urgent). The beat sweep `deliver_due_messages` hands due rows to workers in bounded
batches; `deliver` claims a row (queued → sending, a conditional UPDATE), talks to the channel, and
marks it sent, or retries later with backoff, or gives up and falls back to the next channel.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, User
from orderflow.errors import DomainError
from orderflow.notifications.channels import DeliveryError, PermanentDeliveryError, adapter_for
from orderflow.notifications.channels.email import order_reply_address
from orderflow.notifications.models import Channel, MessageTemplate, OutboxMessage
from orderflow.notifications.rendering import placeholder_values, render_message
from orderflow.notifications.windows import DeliveryWindow, next_delivery_time
from orderflow.pipelines.models import Order, OrderEvent, Stage
from orderflow.pipelines.services import record_event

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SWEEP_BATCH = 500
# At most this many messages handed to workers and not finished yet: a backlog waits in the table,
# not in the broker, so a slow worker never makes the sweep hand out the same rows again.
MAX_IN_FLIGHT = 2000


class NotificationError(DomainError):
    code = "notification_invalid"


def window_of(contact: Contact) -> DeliveryWindow:
    return DeliveryWindow.of(
        contact.time_zone,
        contact.delivery_window_start,
        contact.delivery_window_end,
        contact.delivery_days or range(7),
    )


def earliest_delivery(contact: Contact | None, *, now: datetime.datetime, urgent: bool) -> datetime.datetime:
    """Now for urgent messages and messages to no contact; else the next moment in the contact's window."""
    if urgent or contact is None:
        return now
    try:
        return next_delivery_time(now, window_of(contact))
    except ValueError:  # a window saved before it was validated: deliver rather than never
        return now


def retry_delay(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 … minutes after the n-th failed attempt, at most an hour."""
    return datetime.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def queue_message(
    *,
    key: str,
    channel: str,
    recipient: str,
    subject: str,
    body_text: str,
    language: str,
    contact: Contact | None = None,
    order_id: int | None = None,
    body_html: str = "",
    reply_to: str = "",
    is_transactional: bool = True,
    urgent: bool = False,
    deliver_after: datetime.datetime | None = None,
    event: OrderEvent | None = None,
    template_event: str = "",
    fallback_channels: Sequence[str] = (),
    fallback_of: OutboxMessage | None = None,
) -> OutboxMessage:
    """Put a message in the outbox once per `key`. If it is due now, a worker gets it after commit.

    `deliver_after` defaults to the contact's next delivery window (now when `urgent`). Long waits
    stay in the row; the beat sweep picks the message up when it falls due.
    """
    now = timezone.now()
    when = deliver_after or earliest_delivery(contact, now=now, urgent=urgent)
    message, created = OutboxMessage.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "channel": channel,
            "recipient": recipient,
            "subject": subject[:300],
            "body_text": body_text,
            "body_html": body_html,
            "reply_to": reply_to,
            "language": language,
            "contact": contact,
            "order_id": order_id,
            "event": event,
            "template_event": template_event,
            "is_transactional": is_transactional,
            "is_urgent": urgent,
            "deliver_after": when,
            "dispatched_at": now if when <= now else None,
            "fallback_channels": list(fallback_channels),
            "fallback_of": fallback_of,
        },
    )
    if created and when <= now:
        _dispatch_after_commit([message.pk])
    return message


def queue_email(
    *,
    key: str,
    recipient: str,
    subject: str,
    body_text: str,
    language: str,
    contact: Contact | None = None,
    order_id: int | None = None,
    deliver_after: datetime.datetime | None = None,
    urgent: bool = False,
    is_transactional: bool = True,
) -> OutboxMessage:
    """Put an e-mail in the outbox once per `key` (see queue_message); inside the contact's window."""
    return queue_message(
        key=key,
        channel=Channel.EMAIL,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        language=language,
        contact=contact,
        order_id=order_id,
        deliver_after=deliver_after,
        urgent=urgent,
        is_transactional=is_transactional,
    )


def reachable_channels(contact: Contact) -> list[str]:
    """The contact's channels, best first, without refused ones and ones they cannot be reached on."""
    return [channel for channel in contact.channel_order if adapter_for(channel).address_for(contact)]


def notify_contact(
    contact: Contact,
    *,
    template_event: str,
    key: str,
    order: Order | None = None,
    stage: Stage | None = None,
    event: OrderEvent | None = None,
    channels: Sequence[str] | None = None,
    links: dict[str, str] | None = None,
    urgent: bool = False,
    is_transactional: bool = True,
) -> OutboxMessage | None:
    """Queue a templated message on the contact's first reachable channel, the others as fallbacks.

    The idempotency key is `<key>:<channel>`, so calling again for the same thing queues nothing new.
    None when the contact cannot be reached on any channel they accept.
    """
    plan = list(channels) if channels is not None else reachable_channels(contact)
    if not plan:
        return None
    return _queue_templated(
        contact,
        channel=plan[0],
        fallbacks=plan[1:],
        template_event=template_event,
        key=f"{key}:{plan[0]}",
        order=order,
        stage=stage,
        event=event,
        links=links,
        urgent=urgent,
        is_transactional=is_transactional,
    )


def _queue_templated(
    contact: Contact,
    *,
    channel: str,
    fallbacks: Sequence[str],
    template_event: str,
    key: str,
    order: Order | None,
    stage: Stage | None,
    event: OrderEvent | None,
    links: dict[str, str] | None = None,
    urgent: bool = False,
    is_transactional: bool = True,
    fallback_of: OutboxMessage | None = None,
    deliver_after: datetime.datetime | None = None,
) -> OutboxMessage:
    language = contact.language
    values = placeholder_values(contact=contact, order=order, stage=stage, language=language, links=links)
    rendered = render_message(template_event, channel, language, values)
    return queue_message(
        key=key,
        channel=channel,
        recipient=adapter_for(channel).address_for(contact) or contact.name,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        reply_to=order_reply_address(order.reference) if order is not None else "",
        language=language,
        contact=contact,
        order_id=order.pk if order is not None else None,
        event=event,
        template_event=template_event,
        is_transactional=is_transactional,
        urgent=urgent,
        fallback_channels=fallbacks,
        fallback_of=fallback_of,
        deliver_after=deliver_after,
    )


def notify_client_of_stage_change(event: OrderEvent) -> OutboxMessage | None:
    """Tell the order's client that the order reached a new stage: their channel, language and hours.

    Returns None when there is nothing to send (stage not client-facing, client unreachable).
    """
    if event.kind != OrderEvent.Kind.STAGE_CHANGED or event.audience != OrderEvent.Audience.CLIENT:
        return None
    if event.to_stage is None:
        return None
    order = event.order
    return notify_contact(
        order.client,
        template_event=MessageTemplate.Event.STAGE_CHANGED,
        key=f"order-event:{event.pk}:client",
        order=order,
        stage=event.to_stage,
        event=event,
    )


DISPATCH_CHUNK = 25


def _dispatch_after_commit(message_ids: list[int]) -> None:
    """After commit, one task per message, or per chunk of DISPATCH_CHUNK for a sweep's batch."""
    from orderflow.notifications.tasks import deliver_message, deliver_message_batch

    def send_tasks() -> None:
        if len(message_ids) == 1:
            deliver_message.delay(message_ids[0])
            return
        for start in range(0, len(message_ids), DISPATCH_CHUNK):
            deliver_message_batch.delay(message_ids[start : start + DISPATCH_CHUNK])

    transaction.on_commit(send_tasks)


def claim_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.ORDERFLOW_OUTBOX_CLAIM_TIMEOUT)


def deliver_due_messages(*, limit: int = SWEEP_BATCH, max_in_flight: int = MAX_IN_FLIGHT) -> int:
    """The beat sweep: hand up to `limit` due messages to workers; returns how many.

    Fewer when `max_in_flight` messages are already with workers (handed out within the claim
    timeout, or being sent).

    Rows a worker took but never finished (it died) go back to the queue after the claim timeout, so
    every message is delivered at least once while its row exists; the claim in `deliver` makes a
    second task for the same row do nothing. Due rows are found by the (status, deliver_after) index
    and locked with SKIP LOCKED where the database has it, so two sweeps never take the same rows.
    """
    now = timezone.now()
    stale = now - claim_timeout()
    OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING, claimed_at__lt=stale).update(
        status=OutboxMessage.Status.QUEUED,
        dispatched_at=None,
        last_error="The worker stopped while sending; trying again.",
    )
    in_flight = OutboxMessage.objects.filter(
        Q(status=OutboxMessage.Status.QUEUED, dispatched_at__gte=stale)
        | Q(status=OutboxMessage.Status.SENDING)
    ).count()
    limit = min(limit, max_in_flight - in_flight)
    if limit <= 0:
        return 0
    with transaction.atomic():
        due = (
            OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED, deliver_after__lte=now)
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
            .order_by("deliver_after", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        message_ids = list(due.values_list("pk", flat=True)[:limit])
        OutboxMessage.objects.filter(pk__in=message_ids).update(dispatched_at=now)
        if message_ids:
            _dispatch_after_commit(message_ids)
    return len(message_ids)


def deliver(message_id: int, *, force: bool = False) -> OutboxMessage:
    """Send one message if it is queued and due (`force`: due or not). Safe to call twice.

    The claim is a conditional UPDATE (queued → sending), so of two workers only one sends. A
    transient failure puts the row back in the queue with the error and a later `deliver_after`; after
    MAX_ATTEMPTS, or at once for a permanent failure, the row is marked failed for staff to see and
    the next fallback channel, if any, gets a message of its own. Unexpected errors are recorded the
    same way and re-raised.
    """
    now = timezone.now()
    claimable = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.QUEUED)
    if not force:
        claimable = claimable.filter(deliver_after__lte=now)
    claimed = claimable.update(
        status=OutboxMessage.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )
    message = OutboxMessage.objects.select_related("contact", "order__owner", "order__pipeline").get(
        pk=message_id
    )
    if not claimed:
        return message
    adapter = adapter_for(message.channel)
    try:
        if adapter.writes_database:
            with transaction.atomic():
                adapter.send(message)
                _mark_sent(message)
        else:
            adapter.send(message)
            _mark_sent(message)
    except PermanentDeliveryError as error:
        _give_up(message, str(error))
    except DeliveryError as error:
        _after_failure(message, str(error))
    except Exception as error:
        _after_failure(message, f"{type(error).__name__}: {error}")
        raise
    return message


def _mark_sent(message: OutboxMessage) -> None:
    """Sent messages are in the order's delivery log (messages_for_order), not on its timeline: an
    event per message would double the automation work of every reminder and rule e-mail."""
    message.status = OutboxMessage.Status.SENT
    message.sent_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["status", "sent_at", "last_error"])


def _after_failure(message: OutboxMessage, error: str) -> None:
    logger.warning("delivery of message %s (attempt %s) failed: %s", message.pk, message.attempts, error)
    if message.attempts >= MAX_ATTEMPTS:
        _give_up(message, error)
        return
    retry_at = timezone.now() + retry_delay(message.attempts)
    message.status = OutboxMessage.Status.QUEUED
    message.last_error = error
    message.deliver_after = earliest_delivery(message.contact, now=retry_at, urgent=message.is_urgent)
    message.dispatched_at = None
    message.save(update_fields=["status", "last_error", "deliver_after", "dispatched_at"])


def _give_up(message: OutboxMessage, error: str) -> None:
    """Mark the message failed (on the order's timeline too) and queue it on the next usable channel."""
    with transaction.atomic():
        message.status = OutboxMessage.Status.FAILED
        message.last_error = error
        message.save(update_fields=["status", "last_error"])
        if message.order is not None:
            record_event(
                message.order,
                OrderEvent.Kind.NOTIFICATION_FAILED,
                by=None,
                message=message.subject,
                data={"message": message.pk, "channel": message.channel, "error": error[:500]},
            )
        _fall_back(message)


def _fall_back(message: OutboxMessage) -> OutboxMessage | None:
    contact = message.contact
    if contact is None or not message.template_event:
        return None
    remaining = list(message.fallback_channels or [])
    while remaining:
        channel = remaining.pop(0)
        if channel in (contact.opted_out_channels or []) or not adapter_for(channel).address_for(contact):
            continue
        event = message.event
        return _queue_templated(
            contact,
            channel=channel,
            fallbacks=remaining,
            template_event=message.template_event,
            key=f"{message.idempotency_key}>{channel}",
            order=message.order,
            stage=event.to_stage if event is not None else None,
            event=event,
            urgent=message.is_urgent,
            is_transactional=message.is_transactional,
            fallback_of=message,
        )
    return None


@transaction.atomic
def resend_message(message: OutboxMessage, *, by: User | None) -> OutboxMessage:
    """Send a copy of a sent or failed message now, outside the recipient's window (staff asked)."""
    if message.status not in {OutboxMessage.Status.SENT, OutboxMessage.Status.FAILED}:
        raise NotificationError(
            _("This message has not been sent yet; it goes out on its own."), code="message_pending"
        )
    copies = OutboxMessage.objects.filter(idempotency_key__startswith=f"{message.idempotency_key}:resend-")
    return queue_message(
        key=f"{message.idempotency_key}:resend-{copies.count() + 1}",
        channel=message.channel,
        recipient=message.recipient,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        reply_to=message.reply_to,
        language=message.language,
        contact=message.contact,
        order_id=message.order_id,
        is_transactional=message.is_transactional,
        urgent=True,
    )


class TemplateError(NotificationError):
    """A message template that cannot be saved; `field` is "subject" or "body"."""

    code = "template_invalid"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def save_message_template(
    *, event: str, channel: str, language: str, subject: str, body: str, by: User | None
) -> MessageTemplate:
    """Save staff's wording for one event, channel and language; unknown placeholders are refused."""
    from orderflow.notifications.rendering import TemplateProblem, check_template

    if not body.strip():
        raise TemplateError(_("Write the text of the message."), field="body")
    for field, source in (("subject", subject), ("body", body)):
        try:
            check_template(source)
        except TemplateProblem as problem:
            raise TemplateError(problem.message, field=field) from None
    template, _created = MessageTemplate.objects.update_or_create(
        event=event, channel=channel, language=language, defaults={"subject": subject.strip(), "body": body}
    )
    return template


@transaction.atomic
def reset_message_template(*, event: str, channel: str, language: str) -> None:
    """Go back to the shipped wording for this event, channel and language."""
    MessageTemplate.objects.filter(event=event, channel=channel, language=language).delete()


@transaction.atomic
def mark_inbox_read(contact: Contact, *, notification_ids: Sequence[int] | None = None) -> int:
    """Mark the contact's unread notifications (all, or the given ones) read; returns how many."""
    from orderflow.notifications.models import InboxNotification

    unread = InboxNotification.objects.filter(contact=contact, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
