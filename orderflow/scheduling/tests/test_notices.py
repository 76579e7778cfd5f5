"""Booking notices are outbox messages: they survive a dead worker, are withdrawn with the call, wait
for the client's hours where that makes sense, take the client's channel and show on the order card.

The notifications app proves the general rule (`test_a_worker_that_died_while_sending_gives_the_message_back`
in orderflow/notifications/tests/test_outbox.py); here it is a real booking's confirmation.
"""

from __future__ import annotations

import datetime

import icalendar
import pytest
import time_machine
from django.urls import reverse

from orderflow.notifications import services as notifications
from orderflow.notifications.models import AppriseEndpoint, Channel, OutboxMessage
from orderflow.notifications.preferences import update_contact_preferences
from orderflow.notifications.tests.conftest import HttpEndpoint
from orderflow.scheduling import notices, services
from orderflow.scheduling.models import Booking
from orderflow.scheduling.selectors import open_booking_link_for
from orderflow.scheduling.tests.conftest import NOW, at
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

SLOT = "2027-03-16T14:00+00:00"  # Tuesday: 10:00 in New York (EDT), 14:00 in Lisbon (WET)


def book(invitation, start: str = SLOT, *, now: datetime.datetime = NOW) -> Booking:
    return services.book_slot(invitation, at(start), client_time_zone="America/New_York", now=now)


def notice(booking: Booking, kind: str, side: str = "client", sequence: int = 0) -> OutboxMessage:
    return OutboxMessage.objects.get(idempotency_key=f"booking:{booking.pk}:{sequence}:{kind}:{side}")


def sweep(capture) -> int:
    """The outbox's beat sweep; the delivery tasks it hands out run here (eager Celery) after commit."""
    with capture(execute=True):
        return notifications.deliver_due_messages()


def booking_mails(smtp, booking: Booking) -> list:
    return [
        mail
        for mail in smtp.messages
        if str(mail.message["X-Orderflow-Message"] or "").startswith(f"booking:{booking.pk}:")
    ]


def test_a_worker_killed_while_sending_the_confirmation_leaves_it_to_the_next_worker(
    invitation, smtp_delivery, settings, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        booking = book(invitation)  # after commit a worker would take it; this one dies mid-send:
    confirmation = notice(booking, "confirmation")
    OutboxMessage.objects.filter(pk=confirmation.pk).update(
        status=OutboxMessage.Status.SENDING, claimed_at=NOW, attempts=1, dispatched_at=NOW
    )

    with time_machine.travel(NOW + datetime.timedelta(seconds=30), tick=False):
        sweep(django_capture_on_commit_callbacks)  # too soon: the worker might still be sending
    confirmation.refresh_from_db()
    assert confirmation.status == OutboxMessage.Status.SENDING

    later = NOW + datetime.timedelta(seconds=settings.ORDERFLOW_OUTBOX_CLAIM_TIMEOUT + 1)
    with time_machine.travel(later, tick=False):
        sweep(django_capture_on_commit_callbacks)

    confirmation.refresh_from_db()
    assert confirmation.status == OutboxMessage.Status.SENT
    assert confirmation.attempts == 2
    smtp_delivery.wait_for(2)
    [mail] = [
        mail for mail in booking_mails(smtp_delivery, booking) if mail.envelope_to == ["ana@example.com"]
    ]
    [attachment] = mail.message.iter_attachments()
    event = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == booking.starts_at


def test_a_cancelled_calls_reminders_are_never_sent(
    invitation, lisbon_rep, smtp_delivery, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            booking = book(invitation)
        with django_capture_on_commit_callbacks(execute=True):
            services.cancel_booking(booking, by=lisbon_rep, now=NOW)
    smtp_delivery.wait_for(4)  # confirmation and cancellation, to each side

    for when in ("2027-03-15T14:00+00:00", "2027-03-16T13:00+00:00"):
        with time_machine.travel(at(when), tick=False):
            assert sweep(django_capture_on_commit_callbacks) == 0

    day_before = notice(booking, "reminder_24h")
    assert (day_before.status, day_before.reason) == (
        OutboxMessage.Status.CANCELLED,
        OutboxMessage.Reason.WITHDRAWN,
    )
    assert day_before.reason_detail == "The call was cancelled."
    subjects = sorted(mail.subject for mail in booking_mails(smtp_delivery, booking))
    assert len(subjects) == 4
    assert not [subject for subject in subjects if subject.startswith("Reminder")]
    cancellations = [mail for mail in booking_mails(smtp_delivery, booking) if "cancelled" in mail.subject]
    assert len(cancellations) == 2
    for mail in cancellations:
        [attachment] = mail.message.iter_attachments()
        assert attachment.get_param("method") == "CANCEL"


def test_a_rescheduled_calls_old_reminders_are_withdrawn_and_the_new_ones_sent_at_the_new_time(
    invitation, smtp_delivery, django_capture_on_commit_callbacks
):
    booking = book(invitation)
    moved = services.reschedule_booking(
        booking, at("2027-03-18T14:00+00:00"), client_time_zone="America/New_York", now=NOW
    )
    OutboxMessage.objects.filter(idempotency_key__contains=":confirmation:").update(
        status=OutboxMessage.Status.SENT, sent_at=NOW
    )

    with time_machine.travel(at("2027-03-15T14:00+00:00"), tick=False):  # a day before the old time
        assert sweep(django_capture_on_commit_callbacks) == 0
    with time_machine.travel(at("2027-03-17T14:00+00:00"), tick=False):  # a day before the new time
        assert sweep(django_capture_on_commit_callbacks) == 2

    mails = smtp_delivery.wait_for(2)
    assert {mail.subject for mail in mails} == {
        "Reminder: Questionnaire review call on Thursday 18 March 2027, 10:00",  # New York
        "Reminder: Questionnaire review call on Thursday 18 March 2027, 14:00",  # Lisbon
    }
    assert notice(moved, "reminder_24h", sequence=0).status == OutboxMessage.Status.CANCELLED
    assert notice(moved, "reminder_24h", sequence=1).status == OutboxMessage.Status.SENT


def test_the_order_cards_delivery_log_shows_the_booking_confirmation(
    client, invitation, lisbon_rep, smtp_delivery, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        booking = book(invitation)
    smtp_delivery.wait_for(3)
    with time_machine.travel(NOW, tick=False):
        client.login(email=lisbon_rep.email, password=TEST_PASSWORD)
        response = client.get(reverse("backoffice:order-detail", args=[booking.order_id]))

    html = response.content.decode()
    confirmation = notice(booking, "confirmation")
    assert confirmation.status == OutboxMessage.Status.SENT
    row = html[html.index(f'id="order-message-{confirmation.pk}"') :]
    row = row[: row.index("</li>")]
    assert "Call booked: Questionnaire review call on Tuesday 16 March 2027, 10:00" in row
    assert "ana@example.com" in row
    assert "Sent" in row
    assert "Send again" in row
    reminder = notice(booking, "reminder_24h")
    assert f'id="order-message-{reminder.pk}"' in html  # waiting, with its time


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        # 08:00 in New York the day before: the client's hours start at 09:00 (13:00 UTC).
        pytest.param(range(7), "2027-03-15T13:00+00:00", id="moved-into-the-hours"),
        # No hours on Mondays: the next opening (Tuesday 09:00) is after the call; sent at its time.
        pytest.param([1, 2, 3, 4], "2027-03-15T12:00+00:00", id="not-past-the-call"),
    ],
)
def test_the_day_before_reminder_waits_for_the_clients_hours_but_never_past_the_call(
    invitation, new_york_client, days, expected
):
    update_contact_preferences(
        new_york_client,
        by=None,
        channels=[Channel.EMAIL],
        window_start=datetime.time(9),
        window_end=datetime.time(21),
        days=days,
    )
    booking = book(invitation, "2027-03-16T12:00+00:00")  # Tuesday, 08:00 in New York

    day_before = notice(booking, "reminder_24h")
    assert day_before.deliver_after == at(expected)
    assert not day_before.is_urgent
    # The rep's is not held: staff have no contact hours.
    assert notice(booking, "reminder_24h", "staff").deliver_after == at("2027-03-15T12:00+00:00")


def test_the_hour_before_reminder_goes_at_its_time_whatever_the_clients_hours(invitation, new_york_client):
    update_contact_preferences(
        new_york_client,
        by=None,
        channels=[Channel.EMAIL],
        window_start=datetime.time(9),
        window_end=datetime.time(21),
    )
    booking = book(invitation, "2027-03-16T09:00+00:00")  # 05:00 in New York, chosen by the client

    hour_before = notice(booking, "reminder_1h")
    assert hour_before.deliver_after == at("2027-03-16T08:00+00:00")  # 04:00 in New York
    assert hour_before.is_urgent  # a failed attempt is retried at once, not the next morning
    assert notice(booking, "confirmation").deliver_after == NOW


def test_a_client_who_prefers_sms_gets_the_notices_by_sms_with_the_link(
    invitation, new_york_client, http_endpoint: HttpEndpoint, django_capture_on_commit_callbacks
):
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms", "+X-To={phone}"))
    update_contact_preferences(
        new_york_client, by=None, channels=[Channel.SMS, Channel.EMAIL], phone="+1 212 555 0100"
    )
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        booking = book(invitation)

    confirmation = notice(booking, "confirmation")
    assert (confirmation.channel, confirmation.status) == (Channel.SMS, OutboxMessage.Status.SENT)
    assert not confirmation.attachments.exists()
    [post] = [post for post in http_endpoint.posts if post.payload["title"].startswith("Call booked")]
    assert post.headers["x-to"] == "+12125550100"
    assert post.payload["title"] == "Call booked: Questionnaire review call on Tuesday 16 March 2027, 10:00"
    link = services.booking_link(invitation)
    assert post.payload["message"] == f"To reschedule or cancel, open this link: {link}"
    assert notice(booking, "reminder_1h").channel == Channel.SMS
    assert notice(booking, "confirmation", "staff").channel == Channel.EMAIL  # the rep: e-mail


def test_a_client_who_takes_only_phone_calls_gets_no_booking_email_and_staff_see_why(
    invitation, new_york_client
):
    update_contact_preferences(
        new_york_client,
        by=None,
        channels=[Channel.CALL],
        opted_out_channels=[Channel.EMAIL, Channel.PORTAL],
        phone="+1 212 555 0100",
    )
    booking = book(invitation)

    confirmation = notice(booking, "confirmation")
    assert confirmation.channel == Channel.EMAIL
    assert confirmation.status == OutboxMessage.Status.SUPPRESSED
    assert confirmation.reason == OutboxMessage.Reason.CHANNEL_REFUSED
    assert notice(booking, "confirmation", "staff").status == OutboxMessage.Status.QUEUED
    assert not OutboxMessage.objects.filter(channel=Channel.CALL).exists()  # no task to confirm by phone


def test_a_portuguese_client_gets_the_notices_in_portuguese_and_the_rep_in_english(
    invitation, new_york_client
):
    new_york_client.language = "pt"
    new_york_client.save(update_fields=["language"])
    booking = book(invitation)

    assert notice(booking, "confirmation").subject.startswith("Chamada agendada: Questionnaire review call")
    assert notice(booking, "confirmation").language == "pt"
    assert notice(booking, "confirmation", "staff").subject.startswith("Call booked:")


@pytest.mark.parametrize(
    ("language", "subject", "when"),
    [
        (
            "en",
            "Call booked: Questionnaire review call on Tuesday 16 March 2027, 10:00",
            "Tuesday 16 March 2027, 10:00",
        ),
        (
            "pt",
            "Chamada agendada: Questionnaire review call, terça-feira, 16 de março de 2027, 10:00",
            "terça-feira, 16 de março de 2027, 10:00",
        ),
        (
            "ru",
            "Звонок назначен: Questionnaire review call, вторник, 16 марта 2027 г., 10:00",  # noqa: RUF001
            "вторник, 16 марта 2027 г., 10:00",  # noqa: RUF001 (Cyrillic ge)
        ),
    ],
)
def test_the_booking_email_names_the_day_as_the_clients_language_writes_it(
    invitation, new_york_client, language, subject, when
):
    new_york_client.language = language
    new_york_client.save(update_fields=["language"])
    confirmation = notice(book(invitation), "confirmation")

    assert confirmation.subject == subject
    assert f"Questionnaire review call, {when} \u2013 10:30 (America/New_York)." in confirmation.body_text


def test_planning_a_bookings_notices_again_adds_nothing(invitation):
    booking = book(invitation)
    before = OutboxMessage.objects.count()

    again = notices.plan_notices(
        booking, kind=notices.Kind.CONFIRMATION, now=NOW, manage_url=services.booking_link(invitation)
    )

    assert len(again) == 6
    assert OutboxMessage.objects.count() == before


def test_the_orders_open_booking_link_is_the_newest_that_can_still_book(order, call_type, invitation):
    """What notifications put in links.booking: not a revoked, expired or already booked link."""
    newer, _token = services.invite_to_book(order, call_type, by=None, now=NOW + datetime.timedelta(hours=1))
    older = invitation
    later = NOW + datetime.timedelta(hours=2)
    assert open_booking_link_for(order, now=later) == services.booking_link(newer)

    services.revoke_invitation(newer, now=later)
    assert open_booking_link_for(order, now=later) == services.booking_link(older)

    book(older, now=later)
    assert open_booking_link_for(order, now=later) is None

    fresh, _token = services.invite_to_book(order, call_type, by=None, now=later)
    assert open_booking_link_for(order, now=later) == services.booking_link(fresh)
    assert open_booking_link_for(order, now=fresh.expires_at) is None  # expired
