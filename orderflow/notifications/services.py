"""Queueing and delivering messages. Queueing is idempotent; delivery happens only in a worker.

A message is queued with the earliest time it may go (the recipient's delivery window in their own
zone, unless urgent). The beat sweep `deliver_due_messages` hands due rows to workers in bounded
batches; `deliver` claims a row (queued → sending, a conditional UPDATE), talks to the channel, and
marks it sent at once, or retries later with backoff, or falls back to the next channel. A message the
recipient refused (an opted-out channel, offers after an unsubscribe) is `suppressed` with its reason,
when queued and again when due; staff retry, give up on and resend messages here too.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, User
from orderflow.errors import DomainError
from orderflow.notifications.channels import DeliveryError, PermanentDeliveryError, adapter_for
from orderflow.notifications.channels.email import order_reply_address
from orderflow.notifications.models import (
    Channel,
    MessageTemplate,
    OutboxAttachment,
    OutboxMessage,
    UnsubscribedAddress,
)
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


@dataclass(frozen=True)
class Attachment:
    """A file to send with a message: its name as the recipient sees it, MIME type and bytes."""

    filename: str
    content_type: str
    content: bytes


MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # all attachments of one message together
_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+\"-]+)*$")


def check_attachments(attachments: Sequence[Attachment]) -> None:
    """NotificationError for a nameless file, a malformed content type or more than 10 MB in all."""
    for attachment in attachments:
        name = attachment.filename.strip()
        if not name or any(char in name for char in "/\\\r\n\0"):
            raise NotificationError(
                _("An attachment needs a plain file name (no folders), e.g. invite.ics."),
                code="attachment_name",
            )
        if not _CONTENT_TYPE.match(attachment.content_type.strip()):
            raise NotificationError(
                _("“%(type)s” is not a content type, e.g. text/calendar.")
                % {"type": attachment.content_type},
                code="attachment_type",
            )
    if sum(len(attachment.content) for attachment in attachments) > MAX_ATTACHMENT_BYTES:
        raise NotificationError(_("Attachments may be 10 MB in all."), code="attachment_too_big")


def is_address_unsubscribed(address: str) -> bool:
    return UnsubscribedAddress.objects.filter(email=address.strip().lower()).exists()


def suppression_reason(
    contact: Contact | None, *, channel: str, recipient: str, is_transactional: bool
) -> str:
    """Why this message must not go ("" when it may): the contact refused the channel, or it is an
    offer or feedback request (not transactional) and the contact or the e-mail address said no."""
    if contact is not None and channel in (contact.opted_out_channels or []):
        return OutboxMessage.Reason.CHANNEL_REFUSED
    if is_transactional:
        return ""
    if contact is not None and contact.marketing_opt_out:
        return OutboxMessage.Reason.OFFERS_REFUSED
    if channel == Channel.EMAIL and recipient and is_address_unsubscribed(recipient):
        return OutboxMessage.Reason.ADDRESS_UNSUBSCRIBED
    return ""


def offers_allowed(contact: Contact, *, channel: str) -> bool:
    """Whether an upsell block may go to this contact on this channel (not after an unsubscribe)."""
    if contact.marketing_opt_out:
        return False
    address = adapter_for(channel).address_for(contact) if channel == Channel.EMAIL else None
    return not (address and is_address_unsubscribed(address))


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
    """1, 2, 4, 8 … minutes after the n-th failed attempt, then hourly for as long as it takes."""
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
    attachments: Sequence[Attachment] = (),
    links: Mapping[str, str] | None = None,
) -> OutboxMessage:
    """Put a message in the outbox once per `key`. If it is due now, a worker gets it after commit.

    `deliver_after` defaults to the contact's next delivery window (now when `urgent`). Long waits
    stay in the row; the beat sweep picks the message up when it falls due. A message the contact
    refused (see `suppression_reason`) is recorded as suppressed with the reason, never sent.
    `attachments` go with e-mail (other channels ignore them); bad ones raise NotificationError.
    """
    check_attachments(attachments)
    now = timezone.now()
    when = deliver_after or earliest_delivery(contact, now=now, urgent=urgent)
    reason = suppression_reason(
        contact, channel=channel, recipient=recipient, is_transactional=is_transactional
    )
    fields = {
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
        "dispatched_at": now if when <= now and not reason else None,
        "fallback_channels": list(fallback_channels),
        "fallback_of": fallback_of,
        "links": dict(links or {}),
        "has_attachments": bool(attachments),
        "status": OutboxMessage.Status.SUPPRESSED if reason else OutboxMessage.Status.QUEUED,
        "reason": reason,
    }
    # INSERT first (the usual case is a new key), the existing row only when the key is taken:
    # one round trip fewer than get_or_create, which matters when thousands fall due at once.
    try:
        with transaction.atomic():
            message, created = OutboxMessage.objects.create(idempotency_key=key, **fields), True
    except IntegrityError:
        message, created = OutboxMessage.objects.get(idempotency_key=key), False
    if created and attachments:
        OutboxAttachment.objects.bulk_create(
            OutboxAttachment(
                message=message,
                filename=attachment.filename.strip(),
                content_type=attachment.content_type.strip(),
                content=attachment.content,
            )
            for attachment in attachments
        )
    if created and not reason and when <= now:
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
    attachments: Sequence[Attachment] = (),
) -> OutboxMessage:
    """Put an e-mail in the outbox once per `key` (see queue_message); inside the contact's window.

    Suppressed (visible, not sent) when the contact refused e-mail, or when it is not transactional
    and the contact or the address unsubscribed.
    """
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
        attachments=attachments,
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
    `links` fill the links.* placeholders (request, booking, feedback …) and stay with the message,
    so a fallback on another channel carries them too. None when the contact cannot be reached on
    any channel they accept. A message that is not transactional goes to a contact who refused
    offers as a suppressed row (visible in the log), not at all.
    """
    refused = set(contact.opted_out_channels or [])
    plan = list(channels) if channels is not None else reachable_channels(contact)
    # A refused channel named by the caller is skipped; if every one is refused, the first is queued
    # anyway, to be recorded as suppressed: staff see that the client said no.
    plan = [channel for channel in plan if channel not in refused] or plan[:1]
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
    rendered = render_message(
        template_event, channel, language, values, with_upsell=offers_allowed(contact, channel=channel)
    )
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
        links=links,
    )


def links_for_stage_change(order: Order) -> dict[str, str]:
    """The links a stage-change message can carry today: the order's open booking link, if any.

    A client request's link cannot be shown again (only its hash is stored), so `links.request` is
    filled only by callers that hold the link when they queue; the portal and tracking pages do not
    exist yet, so those placeholders stay empty.
    """
    from orderflow.scheduling.models import Booking, BookingInvitation
    from orderflow.scheduling.services import invitation_token

    # A read of scheduling's table: scheduling has no selector for "the order's open link" yet.
    invitation = (
        BookingInvitation.objects.filter(order=order, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .exclude(bookings__status=Booking.Status.CONFIRMED)
        .order_by("-created_at", "-id")
        .first()
    )
    if invitation is None:
        return {}
    from django.urls import reverse

    return {"booking": settings.BASE_URL + reverse("scheduling:book", args=[invitation_token(invitation)])}


def notify_client_of_stage_change(event: OrderEvent) -> OutboxMessage | None:
    """Tell the order's client that the order reached a new stage: their channel, language and hours.

    Entering a won stage also asks the client for feedback (`feedback.request_feedback`). Returns the
    stage message, or None when there is nothing to send (stage not client-facing, client unreachable).
    """
    if event.kind != OrderEvent.Kind.STAGE_CHANGED or event.to_stage is None:
        return None
    from orderflow.notifications.feedback import request_feedback

    request_feedback(event)
    if event.audience != OrderEvent.Audience.CLIENT:
        return None
    order = event.order
    return notify_contact(
        order.client,
        template_event=MessageTemplate.Event.STAGE_CHANGED,
        key=f"order-event:{event.pk}:client",
        order=order,
        stage=event.to_stage,
        event=event,
        links=links_for_stage_change(order),
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
        _give_up(message, str(error))
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
        _give_up(message, error)
        return
    retry_at = timezone.now() + retry_delay(message.attempts)
    message.status = OutboxMessage.Status.QUEUED
    message.last_error = error
    message.deliver_after = earliest_delivery(message.contact, now=retry_at, urgent=message.is_urgent)
    message.dispatched_at = None
    message.save(update_fields=["status", "last_error", "deliver_after", "dispatched_at"])


def _give_up(message: OutboxMessage, error: str, *, by: User | None = None) -> None:
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
    return _queue_templated(
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


def _locked(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.select_for_update().get(pk=message.pk)


@transaction.atomic
def resend_message(message: OutboxMessage, *, by: User | None) -> OutboxMessage:
    """Send a copy of a sent or failed message now, outside the recipient's window (staff asked).

    The copy carries the same attachments and links, and is suppressed like any message if the
    recipient has refused it since.
    """
    if message.status not in {OutboxMessage.Status.SENT, OutboxMessage.Status.FAILED}:
        raise NotificationError(
            _("This message has not been sent yet; it goes out on its own."), code="message_pending"
        )
    copies = OutboxMessage.objects.filter(idempotency_key__startswith=f"{message.idempotency_key}:resend-")
    attachments = [
        Attachment(filename=row.filename, content_type=row.content_type, content=bytes(row.content))
        for row in message.attachments.all()
    ]
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
        attachments=attachments,
        links=message.links,
    )


def _check_still_queued(message: OutboxMessage) -> None:
    if message.status == OutboxMessage.Status.SENDING:
        raise NotificationError(_("This message is being sent right now."), code="message_sending")
    if message.status != OutboxMessage.Status.QUEUED:
        raise NotificationError(
            _("This message is no longer waiting to be sent (%(status)s).")
            % {"status": message.get_status_display()},
            code="message_not_queued",
        )


@transaction.atomic
def retry_message_now(message: OutboxMessage, *, by: User | None) -> OutboxMessage:
    """Try a waiting or failing message again now, inside or outside the recipient's hours (staff asked)."""
    locked = _locked(message)
    _check_still_queued(locked)
    now = timezone.now()
    locked.deliver_after = now
    locked.dispatched_at = now
    locked.save(update_fields=["deliver_after", "dispatched_at"])
    _dispatch_after_commit([locked.pk])
    return locked


@transaction.atomic
def give_up_message(message: OutboxMessage, *, by: User) -> OutboxMessage:
    """A person stops trying a message that keeps failing: it is failed, with its last error, for good.

    No fallback channel is tried (the person decided); "Send again" can still send a copy later.
    """
    locked = _locked(message)
    _check_still_queued(locked)
    _give_up(locked, locked.last_error or _("Given up before it was sent."), by=by)
    return locked


@transaction.atomic
def cancel_queued_messages(
    *, key: str = "", key_prefix: str = "", by: User | None = None, note: str = ""
) -> int:
    """Withdraw messages not sent yet: the one with idempotency key `key` and its fallbacks, or every
    one whose key starts with `key_prefix` (a cancelled booking's reminders: "booking:42:"). Returns
    how many were withdrawn; they stay in the log as withdrawn, with `note` saying why.

    A message a worker is sending at this moment cannot be withdrawn and is not counted.
    """
    if bool(key) == bool(key_prefix):
        raise NotificationError(_("Name one message key or one key prefix to withdraw."), code="cancel_scope")
    if key_prefix and len(key_prefix) < 3:
        raise NotificationError(_("The key prefix is too short to be safe."), code="cancel_scope")
    scope = (
        Q(idempotency_key=key) | Q(idempotency_key__startswith=f"{key}>")
        if key
        else Q(idempotency_key__startswith=key_prefix)
    )
    return OutboxMessage.objects.filter(scope, status=OutboxMessage.Status.QUEUED).update(
        status=OutboxMessage.Status.CANCELLED,
        reason=OutboxMessage.Reason.WITHDRAWN,
        reason_detail=note[:300],
        given_up_by=by,
    )


class TemplateError(NotificationError):
    """A message template that cannot be saved; `field` is "subject" or "body"."""

    code = "template_invalid"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def save_message_template(
    *,
    event: str,
    channel: str,
    language: str,
    subject: str,
    body: str,
    by: User | None,
    upsell: str | None = None,
) -> MessageTemplate:
    """Save staff's wording for one event, channel and language, and its optional offer (`upsell`,
    None: keep the saved one); unknown placeholders are refused."""
    from orderflow.notifications.rendering import TemplateProblem, check_template

    if not body.strip():
        raise TemplateError(_("Write the text of the message."), field="body")
    for field, source in (("subject", subject), ("body", body), ("upsell", upsell or "")):
        try:
            check_template(source)
        except TemplateProblem as problem:
            raise TemplateError(problem.message, field=field) from None
    values = {"subject": subject.strip(), "body": body}
    if upsell is not None:
        values["upsell"] = upsell.strip()
    template, _created = MessageTemplate.objects.update_or_create(
        event=event, channel=channel, language=language, defaults=values
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
