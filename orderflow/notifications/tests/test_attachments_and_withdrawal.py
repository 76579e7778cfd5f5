"""Outbox messages carry attachments (a calendar .ics) over real SMTP, a resend keeps them, and queued
messages can be withdrawn by key or key prefix (a cancelled booking's notices)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine

from orderflow.accounts.models import User
from orderflow.notifications import services
from orderflow.notifications.models import OutboxMessage
from orderflow.notifications.services import Attachment
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]
LATER = datetime.datetime(2030, 1, 1, 9, 0, tzinfo=datetime.UTC)
ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:booking-7@orderflow\r\n"
    b"DTSTART:20300101T090000Z\r\nDTEND:20300101T093000Z\r\nSUMMARY:Review call\r\nEND:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)
INVITE = Attachment("invite.ics", "text/calendar; method=REQUEST; charset=utf-8", ICS)
PDF = Attachment("invoice.pdf", "application/pdf", b"%PDF-1.4 \x00\x01\x02 binary")


def _queue(key: str = "booking:7:confirmation", **extra: Any) -> OutboxMessage:
    arguments: dict[str, Any] = {
        "key": key,
        "recipient": "ana@example.com",
        "subject": "Your call is booked",
        "body_text": "See you then.",
        "language": "en",
    }
    return services.queue_email(**{**arguments, **extra})


def _attachments(mail: Any) -> dict[str, tuple[str, bytes]]:
    return {
        part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
        for part in mail.message.iter_attachments()
    }


def test_an_email_carries_its_attachments_and_a_resend_carries_them_again(
    smtp_delivery: SmtpServer, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue(attachments=[INVITE, PDF])
    [first] = smtp_delivery.wait_for(1)
    message.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        copy = services.resend_message(message, by=rep)
    second = smtp_delivery.wait_for(2)[1]

    for mail in (first, second):
        attached = _attachments(mail)
        assert attached["invite.ics"] == ("text/calendar", ICS)
        assert attached["invoice.pdf"] == ("application/pdf", PDF.content)
        [calendar] = [part for part in mail.message.iter_attachments() if part.get_filename() == "invite.ics"]
        assert calendar.get_param("method") == "REQUEST"
    assert copy.attachments.count() == 2
    assert first.body.strip() == "See you then."


@pytest.mark.parametrize(
    ("attachment", "message"),
    [
        pytest.param(Attachment("../etc/passwd", "text/plain", b"x"), "plain file name", id="path"),
        pytest.param(Attachment(" ", "text/plain", b"x"), "plain file name", id="no-name"),
        pytest.param(Attachment("a.ics", "calendar", b"x"), "not a content type", id="bad-type"),
        pytest.param(
            Attachment("big.bin", "application/octet-stream", b"\0" * (10 * 1024 * 1024 + 1)),
            "10 MB",
            id="too-big",
        ),
    ],
)
def test_a_bad_attachment_is_refused_and_nothing_is_queued(attachment: Attachment, message: str) -> None:
    with pytest.raises(services.NotificationError, match=message):
        _queue(attachments=[attachment])
    assert not OutboxMessage.objects.exists()


def test_a_cancelled_bookings_notices_are_withdrawn_by_key_prefix_and_never_sent(
    smtp_delivery: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    reminder = _queue("booking:7:reminder-24h", deliver_after=LATER)
    last_call = _queue("booking:7:reminder-1h", deliver_after=LATER)
    other = _queue("booking:70:reminder-24h", deliver_after=LATER)

    withdrawn = services.cancel_queued_messages(key_prefix="booking:7:", note="The call was cancelled.")

    assert withdrawn == 2
    for message in (reminder, last_call):
        message.refresh_from_db()
        assert (message.status, message.reason, message.reason_detail) == (
            "cancelled",
            "withdrawn",
            "The call was cancelled.",
        )
    other.refresh_from_db()
    assert other.status == OutboxMessage.Status.QUEUED
    with time_machine.travel(LATER, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.deliver_due_messages() == 1
    assert [mail.message["X-Orderflow-Message"] for mail in smtp_delivery.wait_for(1)] == [
        "booking:70:reminder-24h"
    ]


def test_withdrawing_by_key_takes_the_message_and_its_fallbacks_but_not_sent_ones(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sent = _queue("feedback:3:email")
    sent.refresh_from_db()
    waiting = _queue("feedback:4:email", deliver_after=LATER)
    fallback = _queue("feedback:4:email>sms", deliver_after=LATER)
    sibling = _queue("feedback:40:email", deliver_after=LATER)

    assert services.cancel_queued_messages(key="feedback:4:email") == 2
    assert services.cancel_queued_messages(key="feedback:3:email") == 0, "a sent message stays sent"
    assert services.cancel_queued_messages(key="feedback:4:email") == 0, "withdrawing twice is harmless"

    statuses = dict(OutboxMessage.objects.values_list("idempotency_key", "status"))
    assert statuses == {
        sent.idempotency_key: "sent",
        waiting.idempotency_key: "cancelled",
        fallback.idempotency_key: "cancelled",
        sibling.idempotency_key: "queued",
    }


def test_a_message_being_sent_right_now_cannot_be_withdrawn() -> None:
    message = _queue(deliver_after=LATER)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.SENDING)

    assert services.cancel_queued_messages(key=message.idempotency_key) == 0
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENDING


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        pytest.param({}, "one message key or one key prefix", id="nothing"),
        pytest.param({"key": "a", "key_prefix": "booking:"}, "one message key or one key prefix", id="both"),
        pytest.param({"key_prefix": "b"}, "too short", id="prefix-too-short"),
    ],
)
def test_withdrawing_needs_a_narrow_scope(scope: dict[str, Any], error: str) -> None:
    message = _queue(deliver_after=LATER)
    with pytest.raises(services.NotificationError, match=error):
        services.cancel_queued_messages(**scope)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.QUEUED


def test_the_django_admin_lists_a_message_with_its_attachments(client: Any) -> None:
    from django.urls import reverse

    from tests.factories import UserFactory

    message = _queue(attachments=[INVITE], deliver_after=LATER)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    page = client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk]))

    assert page.status_code == 200
    assert "invite.ics" in page.content.decode()
    assert client.get(reverse("admin:notifications_feedbackrequest_changelist")).status_code == 200
    assert client.get(reverse("admin:notifications_unsubscribedaddress_changelist")).status_code == 200
