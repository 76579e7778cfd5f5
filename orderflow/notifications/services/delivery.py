"""Delivering messages, in workers only: the beat sweep, the claim, marking sent, retries and fallbacks.

The sweep `deliver_due_messages` hands due rows to workers in bounded batches; `deliver` claims a
row (queued → sending, a conditional UPDATE), talks to the channel, and marks it sent at once, or
retries later with backoff (hourly at most, for as long as it takes), or falls back to the next
channel. A message refused since it was queued is suppressed instead of sent.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from orderflow.accounts.models import User
from orderflow.notifications.channels import DeliveryError, PermanentDeliveryError, adapter_for
from orderflow.notifications.models import OutboxMessage
from orderflow.notifications.services.queueing import (
    dispatch_after_commit,
    earliest_delivery,
    queue_templated,
    suppression_reason,
)
from orderflow.pipelines.models import OrderEvent
from orderflow.pipelines.services import record_event

logger = logging.getLogger(__name__)


MAX_ATTEMPTS = 5
SWEEP_BATCH = 500
# At most this many messages handed to workers and not finished yet: a backlog waits in the table,
# not in the broker, so a slow worker never makes the sweep hand out the same rows again.
MAX_IN_FLIGHT = 2000


def retry_delay(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 … minutes after the n-th failed attempt, then hourly for as long as it takes."""
    return datetime.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


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
            dispatch_after_commit(message_ids)
    return len(message_ids)


def deliver(message_id: int, *, force: bool = False) -> OutboxMessage:
    """Send one message if it is queued and due (`force`: due or not). Safe to call twice.

    The claim is a conditional UPDATE (queued → sending), so of two workers only one sends. A
    transient failure puts the row back in the queue with the error and a later `deliver_after`;
    after MAX_ATTEMPTS the next usable fallback channel, if any, gets the message and this row is
    failed; without one, the row keeps retrying (hourly at most) until sent or a person gives up. A
    permanent failure falls back (or fails) at once. Unexpected errors are recorded the same way and
    re-raised.
    """
    message = _load_for_delivery([message_id]).get(message_id)
    if message is None:
        return OutboxMessage.objects.get(pk=message_id)
    _deliver_loaded(message, force=force)
    return message


def deliver_batch(message_ids: Sequence[int]) -> int:
    """Deliver several messages, each claimed, sent and marked sent on its own; returns how many sent.

    The rows are read in one query; each is then claimed just before it is sent and marked sent right
    after the far end accepted it, so a worker killed mid-batch leaves at most the one message it was
    sending in doubt. An unexpected error in one message is recorded on its row and does not stop the
    others.
    """
    messages = _load_for_delivery(message_ids)
    sent = 0
    for message_id in message_ids:
        message = messages.get(message_id)
        if message is None:
            continue
        try:
            _deliver_loaded(message)
        except Exception:
            logger.exception("delivering message %s failed unexpectedly", message_id)
        sent += message.status == OutboxMessage.Status.SENT
    return sent


def _load_for_delivery(message_ids: Iterable[int]) -> dict[int, OutboxMessage]:
    rows = OutboxMessage.objects.select_related("contact", "order__owner", "order__pipeline").filter(
        pk__in=list(message_ids), status=OutboxMessage.Status.QUEUED
    )
    return {message.pk: message for message in rows}


def _deliver_loaded(message: OutboxMessage, *, force: bool = False) -> None:
    now = timezone.now()
    claimable = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.QUEUED)
    if not force:
        claimable = claimable.filter(deliver_after__lte=now)
    if not claimable.update(status=OutboxMessage.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now):
        message.refresh_from_db()
        return
    message.status, message.attempts, message.claimed_at = (
        OutboxMessage.Status.SENDING,
        message.attempts + 1,
        now,
    )
    reason = suppression_reason(
        message.contact,
        channel=message.channel,
        recipient=message.recipient,
        is_transactional=message.is_transactional,
    )
    if reason:
        _suppress(message, reason)
        return
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
        fail_message(message, str(error))
    except DeliveryError as error:
        _after_failure(message, str(error))
    except Exception as error:
        _after_failure(message, f"{type(error).__name__}: {error}")
        raise


def _mark_sent(message: OutboxMessage) -> None:
    """Right after the far end took the message, in its own commit (autocommit in a worker).

    Sent messages are in the order's delivery log (messages_for_order), not on its timeline: an
    event per message would double the automation work of every reminder and rule e-mail."""
    message.status = OutboxMessage.Status.SENT
    message.sent_at = timezone.now()
    message.last_error = ""
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=message.status, sent_at=message.sent_at, last_error=""
    )


def _suppress(message: OutboxMessage, reason: str) -> None:
    """The recipient refused it since it was queued: not sent, shown with the reason. A refused
    channel passes the message on to the next channel the contact accepts."""
    with transaction.atomic():
        message.status = OutboxMessage.Status.SUPPRESSED
        message.reason = reason
        message.save(update_fields=["status", "reason"])
        if reason == OutboxMessage.Reason.CHANNEL_REFUSED:
            _fall_back(message)


def _after_failure(message: OutboxMessage, error: str) -> None:
    logger.warning("delivery of message %s (attempt %s) failed: %s", message.pk, message.attempts, error)
    if message.attempts >= MAX_ATTEMPTS and _usable_fallbacks(message):
        fail_message(message, error)
        return
    retry_at = timezone.now() + retry_delay(message.attempts)
    message.status = OutboxMessage.Status.QUEUED
    message.last_error = error
    message.deliver_after = earliest_delivery(message.contact, now=retry_at, urgent=message.is_urgent)
    message.dispatched_at = None
    message.save(update_fields=["status", "last_error", "deliver_after", "dispatched_at"])


def fail_message(message: OutboxMessage, error: str, *, by: User | None = None) -> None:
    """Mark the message failed (on the order's timeline too) and, unless a person gave up on it,
    queue it on the next usable channel."""
    with transaction.atomic():
        message.status = OutboxMessage.Status.FAILED
        message.last_error = error
        message.given_up_by = by
        message.save(update_fields=["status", "last_error", "given_up_by"])
        if message.order is not None:
            record_event(
                message.order,
                OrderEvent.Kind.NOTIFICATION_FAILED,
                by=by,
                message=message.subject,
                data={"message": message.pk, "channel": message.channel, "error": error[:500]},
            )
        if by is None:
            _fall_back(message)


def _usable_fallbacks(message: OutboxMessage) -> list[str]:
    """The fallback channels the message can still go to: templated, to a contact who accepts them."""
    contact = message.contact
    if contact is None or not message.template_event:
        return []
    refused = set(contact.opted_out_channels or [])
    return [
        channel
        for channel in message.fallback_channels or []
        if channel not in refused and adapter_for(channel).address_for(contact)
    ]


def _fall_back(message: OutboxMessage) -> OutboxMessage | None:
    remaining = _usable_fallbacks(message)
    if not remaining or message.contact is None:
        return None
    channel = remaining.pop(0)
    event = message.event
    return queue_templated(
        message.contact,
        channel=channel,
        fallbacks=remaining,
        template_event=message.template_event,
        key=f"{message.idempotency_key}>{channel}",
        order=message.order,
        stage=event.to_stage if event is not None else None,
        event=event,
        links=message.links,
        urgent=message.is_urgent,
        is_transactional=message.is_transactional,
        fallback_of=message,
    )
