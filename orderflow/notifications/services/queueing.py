"""Queueing messages: idempotent by key, in the recipient's hours, refused ones recorded as suppressed.

Every path (queue_message, queue_email, notify_contact, notify_client_of_stage_change) goes through
`queue_message`, which checks `suppression_reason` and hands a message due now to a worker after
commit.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact
from orderflow.errors import DomainError
from orderflow.notifications.channels import adapter_for
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
        dispatch_after_commit([message.pk])
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
    return queue_templated(
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


def queue_templated(
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
    from orderflow.scheduling.selectors import open_booking_link_for  # scheduling imports this module

    link = open_booking_link_for(order)
    return {"booking": link} if link else {}


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


def dispatch_after_commit(message_ids: list[int]) -> None:
    """After commit, one task per message, or per chunk of DISPATCH_CHUNK for a sweep's batch."""
    from orderflow.notifications.tasks import deliver_message, deliver_message_batch

    def send_tasks() -> None:
        if len(message_ids) == 1:
            deliver_message.delay(message_ids[0])
            return
        for start in range(0, len(message_ids), DISPATCH_CHUNK):
            deliver_message_batch.delay(message_ids[start : start + DISPATCH_CHUNK])

    transaction.on_commit(send_tasks)
