"""Sending booking e-mails (confirmations, cancellations, reminders) with their .ics, from workers only."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from orderflow.accounts.models import Organisation
from orderflow.scheduling import availability, calendar_files
from orderflow.scheduling.models import Booking, BookingNotice
from orderflow.scheduling.services import invitation_token

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SWEEP_BATCH = 500


def due_notice_ids(*, now: datetime.datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Ids of queued notices that are due, oldest first, at most `limit` (found by the (status, due) index).

    On PostgreSQL rows another sweeper is looking at are skipped (SKIP LOCKED), so two beats never
    hand out the same batch; delivery claims each row again, so a repeat is harmless anyway.
    """
    with transaction.atomic():
        due = BookingNotice.objects.filter(
            status=BookingNotice.Status.QUEUED, due_at__lte=now or timezone.now()
        )
        due = due.order_by("due_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        return list(due.values_list("pk", flat=True)[:limit])


def deliver_notice(notice_id: int) -> BookingNotice:
    """Send one notice now, unless it was sent, withdrawn or is not due. Safe to call twice."""
    with transaction.atomic():
        notice = BookingNotice.objects.select_for_update().get(pk=notice_id)
        if notice.status != BookingNotice.Status.QUEUED or notice.due_at > timezone.now():
            return notice
        notice.status = BookingNotice.Status.SENDING
        notice.attempts += 1
        notice.save(update_fields=["status", "attempts"])
    try:
        message = compose(notice)
        if message is not None:
            message.send()
    except Exception as error:
        notice.last_error = f"{type(error).__name__}: {error}"
        notice.status = (
            BookingNotice.Status.FAILED if notice.attempts >= MAX_ATTEMPTS else BookingNotice.Status.QUEUED
        )
        notice.save(update_fields=["status", "last_error"])
        logger.warning("booking notice %s failed: %s", notice.pk, notice.last_error)
        raise
    notice.status = BookingNotice.Status.SENT
    notice.sent_at = timezone.now()
    notice.last_error = ""
    notice.save(update_fields=["status", "sent_at", "last_error"])
    return notice


def compose(notice: BookingNotice) -> EmailMessage | None:
    """The e-mail for `notice` in the recipient's language and zone; None when they have no address."""
    booking = Booking.objects.select_related(
        "staff", "booking_type", "order__client", "order__pipeline", "invitation"
    ).get(pk=notice.booking_id)
    client = booking.order.client
    to_client = notice.recipient == BookingNotice.Recipient.CLIENT
    address = client.email if to_client else booking.staff.email
    if not address:
        return None
    language = client.language if to_client else booking.staff.language
    zone_name = booking.client_time_zone if to_client else booking.staff.time_zone
    zone = availability.zone_of(zone_name)
    cancelled = notice.kind == BookingNotice.Kind.CANCELLATION
    with translation.override(language), timezone.override(zone):
        context = {
            "notice": notice,
            "booking": booking,
            "client": client,
            "to_client": to_client,
            "zone_name": zone_name,
            "starts_local": booking.starts_at.astimezone(zone),
            "ends_local": booking.ends_at.astimezone(zone),
            "organisation_name": Organisation.current().name,
            "calendar_url": settings.BASE_URL + reverse("scheduling:staff-calendar"),
            "manage_url": settings.BASE_URL
            + reverse("scheduling:book", args=[invitation_token(booking.invitation)]),
        }
        subject = render_to_string("scheduling/email/notice_subject.txt", context).strip()
        body = render_to_string("scheduling/email/notice.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"X-Orderflow-Message": f"booking-notice:{notice.pk}"},
    )
    if notice.kind in {BookingNotice.Kind.CONFIRMATION, BookingNotice.Kind.CANCELLATION}:
        method = "CANCEL" if cancelled else "REQUEST"
        message.attach(
            "invite.ics",
            calendar_files.booking_invitation(booking, cancelled=cancelled),
            f"text/calendar; method={method}; charset=utf-8",
        )
    return message
