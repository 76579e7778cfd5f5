"""Booking notices (confirmation, cancellation, reminders a day and an hour before) as outbox messages.

Every notice is a message in the notifications outbox, so it has what every message has: the delivery
log on the order card, "Send again", the client's channel and refusals, retries, and recovery when a
worker dies while sending. Each is planned once per (booking, reschedule, kind, recipient) under the
key `booking:<booking>:<sequence>:<kind>:<client|staff>`; moving or cancelling a call withdraws
every notice of the booking still waiting (`booking:<booking>:`) before the new ones are planned.

When each goes (decided here, documented in docs/scheduling.md):
- confirmation and cancellation: urgent, at once — the client just acted and waits for it;
- the reminder a day before: inside the client's contact hours, unless those would hold it until
  less than an hour before the call (then at its due time);
- the reminder an hour before: at its due time, whatever the hours — the client chose the call's
  time, so an hour before it they are awake, and the next morning would be too late.
The rep's notices (staff, no contact hours) go at their due times, by e-mail.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, Organisation
from orderflow.notifications.channels import adapter_for
from orderflow.notifications.channels.email import order_reply_address
from orderflow.notifications.models import Channel, OutboxMessage
from orderflow.notifications.services import (
    Attachment,
    cancel_queued_messages,
    earliest_delivery,
    queue_message,
    reachable_channels,
)
from orderflow.scheduling import availability, calendar_files
from orderflow.scheduling.models import Booking


class Kind(enum.StrEnum):
    CONFIRMATION = "confirmation"
    CANCELLATION = "cancellation"
    REMINDER_DAY = "reminder_24h"
    REMINDER_HOUR = "reminder_1h"


class Side(enum.StrEnum):
    CLIENT = "client"
    STAFF = "staff"


REMINDERS = (
    (Kind.REMINDER_DAY, datetime.timedelta(hours=24)),
    (Kind.REMINDER_HOUR, datetime.timedelta(hours=1)),
)
# The channels a booking notice may take to the client, in the client's order of preference. A call
# task ("call the client about …") to confirm a call the client has just booked would only be noise.
CLIENT_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.MESSENGER, Channel.PORTAL)


def key_prefix(booking: Booking) -> str:
    """The start of every notice key of `booking`, whatever its reschedule, kind or recipient."""
    return f"booking:{booking.pk}:"


def notice_key(booking: Booking, kind: Kind, side: Side) -> str:
    return f"{key_prefix(booking)}{booking.sequence}:{kind}:{side}"


def plan_notices(
    booking: Booking, *, kind: Kind, now: datetime.datetime, manage_url: str
) -> list[OutboxMessage]:
    """Queue `kind` (a confirmation or a cancellation) to both sides now and, for a confirmation, the
    reminders a day and an hour before the call (those already past are skipped).

    Call inside the booking's transaction: the messages commit with it, and one due now is handed to
    a worker after commit. Queueing again for the same booking and sequence adds nothing (same keys).
    `booking` needs its staff, booking type, order and client loaded.
    """
    plan: list[tuple[Kind, datetime.datetime]] = [(kind, now)]
    if kind == Kind.CONFIRMATION:
        plan += [
            (reminder, booking.starts_at - before)
            for reminder, before in REMINDERS
            if booking.starts_at - before > now
        ]
    recipients = [recipient for recipient in _recipients(booking) if recipient.address]
    organisation_name = Organisation.current().name
    return [
        _queue(
            booking,
            notice_kind,
            recipient,
            due=due,
            manage_url=manage_url,
            organisation_name=organisation_name,
        )
        for notice_kind, due in plan
        for recipient in recipients
    ]


def withdraw_notices(booking: Booking, *, note: str) -> int:
    """Withdraw the booking's notices not sent yet (the call moved or was cancelled); returns how many."""
    return cancel_queued_messages(key_prefix=key_prefix(booking), note=note)


def client_channel(client: Contact) -> str | None:
    """The channel of the client's booking notices: the first of CLIENT_CHANNELS they prefer and can be
    reached on; e-mail when they refused all of them (recorded as not sent, so staff see why); None
    when they cannot be reached at all."""
    for channel in reachable_channels(client):
        if channel in CLIENT_CHANNELS:
            return channel
    return Channel.EMAIL if client.email else None


@dataclass(frozen=True)
class _Recipient:
    """One side of the call as its notices reach it ("" address: cannot be reached)."""

    side: Side
    channel: str
    address: str
    language: str
    zone_name: str
    contact: Contact | None


def _recipients(booking: Booking) -> list[_Recipient]:
    """The client (their channel, language, the zone they booked in) and the rep (e-mail, own zone)."""
    client, staff = booking.order.client, booking.staff
    channel = client_channel(client)
    address = (adapter_for(channel).address_for(client) or client.email) if channel else ""
    return [
        _Recipient(
            Side.CLIENT, channel or Channel.EMAIL, address, client.language, booking.client_time_zone, client
        ),
        _Recipient(Side.STAFF, Channel.EMAIL, staff.email, staff.language, staff.time_zone, None),
    ]


def _queue(
    booking: Booking,
    kind: Kind,
    to: _Recipient,
    *,
    due: datetime.datetime,
    manage_url: str,
    organisation_name: str,
) -> OutboxMessage:
    order = booking.order
    is_email = to.channel == Channel.EMAIL
    subject, body, short_text = compose(
        booking,
        kind,
        to.side,
        language=to.language,
        zone_name=to.zone_name,
        manage_url=manage_url,
        organisation_name=organisation_name,
    )
    urgent = kind in (Kind.CONFIRMATION, Kind.CANCELLATION, Kind.REMINDER_HOUR)
    return queue_message(
        key=notice_key(booking, kind, to.side),
        channel=to.channel,
        recipient=to.address,
        subject=subject,
        body_text=body if is_email else short_text,
        language=to.language,
        contact=to.contact,
        order_id=order.pk,
        reply_to=order_reply_address(order.reference) if to.side == Side.CLIENT and is_email else "",
        urgent=urgent,
        deliver_after=due if urgent or to.contact is None else _inside_hours(to.contact, due, booking),
        attachments=_invitation_file(booking, kind) if is_email else (),
    )


def _inside_hours(contact: Contact, due: datetime.datetime, booking: Booking) -> datetime.datetime:
    """`due`, moved into the contact's hours unless that would bring it within an hour of the call."""
    moved = earliest_delivery(contact, now=due, urgent=False)
    return moved if moved <= booking.starts_at - datetime.timedelta(hours=1) else due


def _invitation_file(booking: Booking, kind: Kind) -> list[Attachment]:
    if kind not in (Kind.CONFIRMATION, Kind.CANCELLATION):
        return []
    cancelled = kind == Kind.CANCELLATION
    method = "CANCEL" if cancelled else "REQUEST"
    return [
        Attachment(
            filename="invite.ics",
            content_type=f"text/calendar; method={method}; charset=utf-8",
            content=calendar_files.booking_invitation(booking, cancelled=cancelled),
        )
    ]


def compose(
    booking: Booking,
    kind: Kind,
    side: Side,
    *,
    language: str,
    zone_name: str,
    manage_url: str,
    organisation_name: str,
) -> tuple[str, str, str]:
    """Subject, e-mail text and short text (SMS, messenger, portal: the subject says what and when, the
    text adds the link to change the call) in the recipient's language, times in the recipient's zone."""
    zone = availability.zone_of(zone_name)
    with translation.override(language), timezone.override(zone):
        context = {
            "kind": str(kind),
            "booking": booking,
            "client": booking.order.client,
            "to_client": side == Side.CLIENT,
            "zone_name": zone_name,
            "starts_local": booking.starts_at.astimezone(zone),
            "ends_local": booking.ends_at.astimezone(zone),
            "organisation_name": organisation_name,
            "calendar_url": settings.BASE_URL + reverse("scheduling:staff-calendar"),
            "manage_url": manage_url,
        }
        subject = render_to_string("scheduling/email/notice_subject.txt", context).strip()
        body = render_to_string("scheduling/email/notice.txt", context)
        if kind == Kind.CANCELLATION:
            short_text = organisation_name
        else:
            short_text = f"{_('To reschedule or cancel, open this link:')} {manage_url}"
    return " ".join(subject.split()), body, short_text


def withdrawal_note(*, cancelled: bool) -> str:
    """Why a booking's notices were withdrawn, for the delivery log, in the organisation's language."""
    with translation.override(Organisation.current().language):
        return _("The call was cancelled.") if cancelled else _("The call was moved to another time.")
