"""Booking, rescheduling and cancelling: the event, the stage move, the task, the notices in the
notifications outbox and every refusal."""

from __future__ import annotations

import datetime

import icalendar
import pytest
import time_machine

from orderflow.notifications import services as notifications
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import OrderEvent, StaffTask
from orderflow.scheduling import services
from orderflow.scheduling.models import Booking
from orderflow.scheduling.tests.conftest import NOW, at
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

SLOT = "2027-03-16T14:00+00:00"  # 10:00 in New York (EDT), 14:00 in Lisbon (WET)


def book(invitation, start: str = SLOT, *, now: datetime.datetime = NOW) -> Booking:
    return services.book_slot(invitation, at(start), client_time_zone="America/New_York", now=now)


def notices_of(booking: Booking, **filters: object) -> dict[tuple[int, str, str], OutboxMessage]:
    """The booking's notices in the outbox by (reschedule, kind, recipient), read from their keys
    booking:<booking>:<sequence>:<kind>:<client|staff>."""
    found = OutboxMessage.objects.filter(idempotency_key__startswith=f"booking:{booking.pk}:", **filters)
    by_key = {}
    for message in found:
        _booking, _pk, sequence, kind, side = message.idempotency_key.split(":")
        by_key[(int(sequence), kind, side)] = message
    return by_key


def test_booking_records_an_event_moves_the_order_and_gives_the_rep_a_call_task(invitation, lisbon_rep):
    booking = book(invitation)
    order = booking.order
    order.refresh_from_db()
    assert booking.starts_at == at(SLOT)
    assert booking.ends_at == at("2027-03-16T14:30+00:00")
    assert booking.staff == lisbon_rep
    assert order.stage.key == "followup-call-scheduled"
    made = order.events.get(kind=OrderEvent.Kind.BOOKING_MADE)
    assert made.audience == OrderEvent.Audience.CLIENT
    assert made.data["booking"] == booking.pk
    task = booking.task
    assert task is not None
    assert task.assignee == lisbon_rep
    assert task.due_at == booking.starts_at
    assert "Ana Client" in task.title


def test_booking_plans_confirmations_now_and_reminders_a_day_and_an_hour_before(invitation):
    booking = book(invitation)
    planned = {key[1:]: message for key, message in notices_of(booking).items()}
    assert {key: message.deliver_after for key, message in planned.items()} == {
        ("confirmation", "client"): NOW,
        ("confirmation", "staff"): NOW,
        ("reminder_24h", "client"): at("2027-03-15T14:00+00:00"),
        ("reminder_24h", "staff"): at("2027-03-15T14:00+00:00"),
        ("reminder_1h", "client"): at("2027-03-16T13:00+00:00"),
        ("reminder_1h", "staff"): at("2027-03-16T13:00+00:00"),
    }
    assert all(message.status == OutboxMessage.Status.QUEUED for message in planned.values())
    assert {key: message.recipient for key, message in planned.items() if key[0] == "confirmation"} == {
        ("confirmation", "client"): "ana@example.com",
        ("confirmation", "staff"): "rita@example.com",
    }
    confirmation = planned[("confirmation", "client")]
    assert confirmation.is_urgent
    assert confirmation.is_transactional
    assert confirmation.order_id == booking.order_id
    assert confirmation.contact == booking.order.client
    assert f"+{booking.order.reference.lower()}@" in confirmation.reply_to  # replies filed on the order
    assert [a.filename for a in confirmation.attachments.all()] == ["invite.ics"]
    assert not planned[("reminder_24h", "client")].attachments.exists()


def test_a_call_sooner_than_a_day_gets_no_day_before_reminder(invitation):
    booking = book(invitation, "2027-03-11T09:00+00:00")
    kinds = {kind for _sequence, kind, _side in notices_of(booking)}
    assert "reminder_24h" not in kinds
    assert "reminder_1h" in kinds


@pytest.mark.parametrize(
    ("start", "code"),
    [
        ("2027-03-09T14:00+00:00", "slot_past"),
        ("2027-03-10T14:00+00:00", "slot_notice"),
        ("2027-03-16T20:00+00:00", "slot_outside_hours"),
        ("2027-03-16T14:10+00:00", "slot_outside_hours"),
        ("2027-03-20T14:00+00:00", "slot_outside_hours"),  # Saturday
        ("2028-01-10T14:00+00:00", "slot_too_far"),
    ],
)
def test_times_that_are_not_offered_are_refused_and_change_nothing(invitation, start, code):
    with pytest.raises(services.SlotUnavailableError) as refused:
        book(invitation, start)
    assert refused.value.code == code
    assert refused.value.message
    assert not Booking.objects.exists()
    assert not invitation.order.events.filter(kind=OrderEvent.Kind.BOOKING_MADE).exists()


def test_a_taken_time_is_refused_with_the_friendly_message(invitation, order, call_type):
    book(invitation)
    other_order = OrderFactory(pipeline=order.pipeline, client=order.client, owner=order.owner)
    other, _token = services.invite_to_book(other_order, call_type, by=None, now=NOW)
    with pytest.raises(services.SlotUnavailableError) as refused:
        book(other)
    assert refused.value.code == "slot_taken"
    assert "just taken" in refused.value.message


def test_one_link_books_one_call(invitation):
    book(invitation)
    with pytest.raises(services.BookingError) as refused:
        book(invitation, "2027-03-17T14:00+00:00")
    assert refused.value.code == "already_booked"


def test_expired_and_revoked_links_cannot_book(invitation):
    with pytest.raises(services.InvitationUnusableError) as expired:
        book(invitation, now=NOW + datetime.timedelta(days=31))
    assert expired.value.code == "invitation_expired"
    services.revoke_invitation(invitation, now=NOW)
    with pytest.raises(services.InvitationUnusableError) as revoked:
        book(invitation)
    assert revoked.value.code == "invitation_revoked"


def test_a_naive_time_is_refused(invitation):
    with pytest.raises(services.BookingError):
        services.book_slot(invitation, datetime.datetime(2027, 3, 16, 14), client_time_zone="UTC", now=NOW)


def test_rescheduling_moves_the_call_keeps_its_uid_and_replans_reminders(invitation):
    booking = book(invitation)
    uid = booking.uid
    moved = services.reschedule_booking(
        booking, at("2027-03-17T15:00+00:00"), client_time_zone="America/New_York", now=NOW
    )
    assert moved.uid == uid
    assert moved.sequence == 1
    assert moved.starts_at == at("2027-03-17T15:00+00:00")
    assert StaffTask.objects.get(pk=moved.task.pk if moved.task else 0).due_at == moved.starts_at
    live = notices_of(moved, status=OutboxMessage.Status.QUEUED)
    assert {sequence for sequence, _kind, _side in live} == {1}
    assert live[(1, "reminder_24h", "client")].deliver_after == at("2027-03-16T15:00+00:00")
    assert live[(1, "reminder_1h", "staff")].deliver_after == at("2027-03-17T14:00+00:00")
    assert "Call moved" in live[(1, "confirmation", "client")].subject
    withdrawn = notices_of(moved, status=OutboxMessage.Status.CANCELLED)
    assert {key[0] for key in withdrawn} == {0}
    assert len(withdrawn) == 6
    assert {message.reason for message in withdrawn.values()} == {OutboxMessage.Reason.WITHDRAWN}
    assert {message.reason_detail for message in withdrawn.values()} == {
        "The call was moved to another time."
    }
    assert moved.order.events.filter(kind=OrderEvent.Kind.BOOKING_RESCHEDULED).count() == 1
    # The old time is free again, for anyone.
    assert services.check_slot(moved.booking_type, [moved.staff], at(SLOT), now=NOW)


def test_client_cannot_change_the_call_inside_the_limit_but_staff_can_cancel(invitation, lisbon_rep):
    booking = book(invitation)
    late = at(SLOT) - datetime.timedelta(hours=23)
    with pytest.raises(services.BookingError) as refused:
        services.cancel_booking(booking, by=None, now=late)
    assert refused.value.code == "booking_change_too_late"
    with pytest.raises(services.BookingError):
        services.reschedule_booking(booking, at("2027-03-17T15:00+00:00"), client_time_zone="UTC", now=late)
    cancelled = services.cancel_booking(booking, by=lisbon_rep, now=late)
    assert cancelled.status == Booking.Status.CANCELLED
    assert cancelled.order.events.filter(kind=OrderEvent.Kind.BOOKING_CANCELLED).exists()
    left = notices_of(cancelled, status=OutboxMessage.Status.QUEUED)
    assert sorted(left) == [(0, "cancellation", "client"), (0, "cancellation", "staff")]
    assert all(message.is_urgent for message in left.values())
    withdrawn = notices_of(cancelled, status=OutboxMessage.Status.CANCELLED)
    assert len(withdrawn) == 6  # both confirmations were still waiting too: the clock is frozen at NOW


def test_after_a_cancel_the_link_can_book_again(invitation):
    booking = book(invitation)
    services.cancel_booking(booking, by=None, now=NOW)
    again = book(invitation, "2027-03-18T14:00+00:00")
    assert again.is_confirmed


def test_confirmation_email_carries_an_ics_that_parses_back_to_the_same_call(
    invitation, smtp_delivery, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW), django_capture_on_commit_callbacks(execute=True):
        booking = book(invitation)
    smtp_delivery.wait_for(3)  # the two confirmations and the stage-change e-mail of notifications
    mails = [
        mail
        for mail in smtp_delivery.messages
        if "X-Orderflow-Message" in mail.message
        and str(mail.message["X-Orderflow-Message"]).startswith(f"booking:{booking.pk}:0:confirmation:")
    ]
    assert len(mails) == 2
    by_recipient = {mail.envelope_to[0]: mail for mail in mails}
    client_mail = by_recipient["ana@example.com"]
    assert "Tuesday 16 March 2027, 10:00 \u2013 10:30" in client_mail.body  # New York wall clock
    assert "America/New_York" in client_mail.body
    assert "/book/" in client_mail.body
    lisbon = by_recipient["rita@example.com"].body
    assert "Tuesday 16 March 2027, 14:00 \u2013 14:30" in lisbon  # Lisbon wall clock
    for mail in mails:
        attachment = next(part for part in mail.message.iter_attachments())
        assert attachment.get_content_type() == "text/calendar"
        assert attachment.get_param("method") == "REQUEST"
        calendar = icalendar.Calendar.from_ical(attachment.get_content())
        assert str(calendar["method"]) == "REQUEST"
        event = calendar.walk("VEVENT")[0]
        assert event.decoded("dtstart") == booking.starts_at
        assert event.decoded("dtend") == booking.ends_at
        assert event.decoded("dtstart").utcoffset() == datetime.timedelta(0)
        assert str(event["uid"]) == booking.uid
        assert str(event["organizer"]) == "mailto:rita@example.com"
        attendees = event["attendee"]
        assert isinstance(attendees, list)
        assert sorted(str(a) for a in attendees) == [
            "mailto:ana@example.com",
            "mailto:rita@example.com",
        ]
    confirmations = notices_of(booking, idempotency_key__contains=":confirmation:")
    assert {message.status for message in confirmations.values()} == {OutboxMessage.Status.SENT}
    assert len(confirmations) == 2


def _sweep(django_capture_on_commit_callbacks) -> int:
    """The outbox's beat sweep; its tasks run in this process (eager Celery) after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return notifications.deliver_due_messages()


def test_reminders_are_swept_when_due_and_sent_once(
    invitation, smtp_delivery, django_capture_on_commit_callbacks
):
    booking = book(invitation)
    OutboxMessage.objects.filter(idempotency_key__contains=":confirmation:").update(
        status=OutboxMessage.Status.SENT, sent_at=NOW
    )
    with time_machine.travel(NOW, tick=False):
        assert _sweep(django_capture_on_commit_callbacks) == 0
    day_before = at("2027-03-15T14:00+00:00")
    with time_machine.travel(day_before, tick=False):
        assert _sweep(django_capture_on_commit_callbacks) == 2
        for message in notices_of(booking, idempotency_key__contains=":reminder_24h:").values():
            notifications.deliver(message.pk)  # a repeated task sends nothing more
    mails = smtp_delivery.wait_for(2)
    assert len(mails) == 2
    assert all("Reminder" in mail.subject for mail in mails)
    assert sorted(mail.envelope_to[0] for mail in mails) == ["ana@example.com", "rita@example.com"]
    day = notices_of(booking, idempotency_key__contains=":reminder_24h:")
    assert {message.status for message in day.values()} == {OutboxMessage.Status.SENT}


def test_a_notice_that_is_not_due_yet_is_left_queued(invitation):
    booking = book(invitation)
    reminder = notices_of(booking)[(0, "reminder_1h", "client")]
    with time_machine.travel(NOW, tick=False):
        assert notifications.deliver(reminder.pk).status == OutboxMessage.Status.QUEUED


def test_invitation_needs_someone_to_take_the_call(order, call_type):
    order.owner = None
    order.save()
    with pytest.raises(services.BookingError) as refused:
        services.invite_to_book(order, call_type, by=None, now=NOW)
    assert refused.value.code == "order_without_owner"


def test_link_tokens_are_unguessable_and_only_their_hash_is_stored(order, call_type):
    invitation, token = services.invite_to_book(order, call_type, by=None, now=NOW)
    assert len(token) >= 43
    assert token not in (invitation.token_hash, invitation.salt)
    assert services.invitation_token(invitation) == token
    assert services.hash_token(token) == invitation.token_hash


def test_sending_an_invitation_emails_the_client_the_link_once(order, call_type):
    from orderflow.notifications.models import OutboxMessage

    invitation, link = services.send_booking_invitation(order, call_type, by=None, now=NOW)
    assert link.endswith(f"/book/{services.invitation_token(invitation)}/")
    message = OutboxMessage.objects.get(idempotency_key=f"booking-invitation:{invitation.pk}")
    assert message.recipient == "ana@example.com"
    assert link in message.body_text


def test_an_expired_invitation_still_lets_the_client_move_and_cancel_the_booked_call(invitation):
    """Invited on day 0 (valid 30 days), booked on day 25 for day 47: on day 35 the call is still theirs."""
    day = datetime.timedelta(days=1)
    booking = book(invitation, "2027-04-26T13:00+00:00", now=NOW + 25 * day)
    on_day_35 = NOW + 35 * day
    assert invitation.expires_at < on_day_35
    with pytest.raises(services.InvitationUnusableError) as refused:
        services.check_invitation_usable(invitation, now=on_day_35)  # no new booking from this link
    assert refused.value.code == "invitation_expired"
    moved = services.reschedule_booking(
        booking, at("2027-04-27T13:00+00:00"), client_time_zone="America/New_York", now=on_day_35
    )
    assert moved.starts_at == at("2027-04-27T13:00+00:00")
    cancelled = services.cancel_booking(moved, by=None, now=on_day_35 + day)
    assert cancelled.status == Booking.Status.CANCELLED
    with pytest.raises(services.InvitationUnusableError):
        book(invitation, "2027-04-28T13:00+00:00", now=on_day_35 + day)  # cancelled: the link books no more


def test_a_revoked_invitation_closes_the_booked_call_to_the_client_but_not_to_staff(invitation, lisbon_rep):
    booking = book(invitation)
    services.revoke_invitation(invitation, now=NOW)
    with pytest.raises(services.InvitationUnusableError) as refused:
        services.cancel_booking(booking, by=None, now=NOW)
    assert refused.value.code == "invitation_revoked"
    assert services.cancel_booking(booking, by=lisbon_rep, now=NOW).status == Booking.Status.CANCELLED
