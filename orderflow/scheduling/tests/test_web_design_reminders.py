"""Seed 000 with the real booking service: a booked review call stops the "book your call" reminders.

The shipped web-design template starts its "Review call booking reminders" when the order enters
Questionnaire Received and stops them on booking.made. Here the booking is a real one (book_slot,
through the client's invitation), not a stand-in event; automation is read through its own
selectors and models only.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from orderflow.accounts.models import Contact, User
from orderflow.automation.models import Reminder, ScheduledJob
from orderflow.automation.schedule import sweep
from orderflow.automation.selectors import reminders_of
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import OrderEvent
from orderflow.pipelines.services import move_order
from orderflow.scheduling import services
from orderflow.scheduling.models import BookingType
from orderflow.scheduling.tests.conftest import at
from tests.factories import TEST_PASSWORD, OrderFactory, PipelineFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime.datetime(2027, 3, 1, 10, 0, tzinfo=datetime.UTC)
CALL = "2027-03-09T14:00+00:00"  # Tuesday of the next week, 14:00 in Lisbon
LONG_AFTER = datetime.datetime(2027, 4, 30, 12, 0, tzinfo=datetime.UTC)  # every step would be due


def _review_call_mails(order_id: int) -> list[str]:
    return [
        subject
        for subject in OutboxMessage.objects.filter(
            order_id=order_id, idempotency_key__startswith="reminder:"
        ).values_list("subject", flat=True)
        if "review call" in subject
    ]


def test_a_real_booking_stops_the_book_your_call_reminders(
    lisbon_rep: User,
    new_york_client: Contact,
    call_type: BookingType,
    django_capture_on_commit_callbacks,
) -> None:
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(MONDAY, tick=False):
        pipeline = PipelineFactory(automation=True)
        with capture(execute=True):
            order = OrderFactory(pipeline=pipeline, client=new_york_client, owner=lisbon_rep)
        order.refresh_from_db()
        assert order.stage.key == "questionnaire-sent"
        with capture(execute=True):
            move_order(order, pipeline.stages.get(key="questionnaire-received"), by=lisbon_rep)
        review_call = reminders_of(order).get(sequence__key="review-call")
        assert review_call.status == Reminder.Status.ACTIVE
        pending = ScheduledJob.objects.filter(
            idempotency_key__startswith=f"reminder:{review_call.pk}:", status=ScheduledJob.Status.PENDING
        )
        assert pending.count() == 1
        with capture(execute=True):
            invitation, _link = services.send_booking_invitation(order, call_type, by=lisbon_rep)

    with time_machine.travel(MONDAY + datetime.timedelta(hours=2), tick=False), capture(execute=True):
        booking = services.book_slot(invitation, at(CALL), client_time_zone="America/New_York")

    review_call.refresh_from_db()
    assert review_call.status == Reminder.Status.ANSWERED  # stopped by booking.made, not by the move
    assert review_call.next_due_at is None
    assert not pending.exists()
    stopped = order.events.get(kind=OrderEvent.Kind.REMINDERS_STOPPED, data__reminder=review_call.pk)
    assert "Review call booking reminders" in stopped.message
    order.refresh_from_db()
    assert order.stage.key == "followup-call-scheduled"
    assert booking.is_confirmed

    with time_machine.travel(LONG_AFTER, tick=False), capture(execute=True):
        sweep()
    assert _review_call_mails(order.pk) == []
    assert reminders_of(order).get(sequence__key="review-call").status == Reminder.Status.ANSWERED


def test_without_a_booking_the_book_your_call_reminder_goes_out(
    lisbon_rep: User, new_york_client: Contact, django_capture_on_commit_callbacks
) -> None:
    """The control: the same order left unbooked is reminded, so the test above can fail."""
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(MONDAY, tick=False):
        pipeline = PipelineFactory(automation=True)
        with capture(execute=True):
            order = OrderFactory(pipeline=pipeline, client=new_york_client, owner=lisbon_rep)
        with capture(execute=True):
            move_order(order, pipeline.stages.get(key="questionnaire-received"), by=lisbon_rep)
    with time_machine.travel(MONDAY + datetime.timedelta(days=8), tick=False), capture(execute=True):
        sweep()
    assert _review_call_mails(order.pk) == [f"Book your review call for {order.reference}"]


def test_a_booking_link_sent_by_hand_starts_the_booking_reminders_and_booking_stops_them(
    client,
    lisbon_rep: User,
    new_york_client: Contact,
    call_type: BookingType,
    django_capture_on_commit_callbacks,
) -> None:
    """The order is opened straight in Questionnaire Received, so the template's rule never sends a
    link: the one the rep sends from the calendar is what starts the reminders."""
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(MONDAY, tick=False):
        pipeline = PipelineFactory(automation=True)
        with capture(execute=True):
            order = OrderFactory(
                pipeline=pipeline, client=new_york_client, owner=lisbon_rep, stage="questionnaire-received"
            )
        assert not reminders_of(order).exists()
        client.login(email=lisbon_rep.email, password=TEST_PASSWORD)
        with capture(execute=True):
            response = client.post(
                reverse("scheduling:invite"), {"order": order.reference, "booking_type": call_type.pk}
            )
        assert response.status_code == 302

    invited = order.events.get(kind=OrderEvent.Kind.BOOKING_INVITED)
    invitation = order.booking_invitations.get()
    assert invited.actor == lisbon_rep
    assert invited.get_kind_display() == "Booking link sent"
    assert invited.data["invitation"] == invitation.pk
    assert invited.data["booking_type"] == call_type.pk
    review_call = reminders_of(order).get(sequence__key="review-call")
    assert review_call.status == Reminder.Status.ACTIVE
    assert review_call.start_event == invited
    assert review_call.awaited_id == str(call_type.pk)
    assert reminders_of(order).count() == 1

    with time_machine.travel(MONDAY + datetime.timedelta(hours=2), tick=False), capture(execute=True):
        services.book_slot(invitation, at(CALL), client_time_zone="America/New_York")

    review_call.refresh_from_db()
    assert review_call.status == Reminder.Status.ANSWERED
    with time_machine.travel(LONG_AFTER, tick=False), capture(execute=True):
        sweep()
    assert _review_call_mails(order.pk) == []


def test_a_second_link_for_the_same_call_starts_no_second_reminder(
    lisbon_rep: User, new_york_client: Contact, call_type: BookingType, django_capture_on_commit_callbacks
) -> None:
    """The template's rule sent a link on entering the stage; the rep sends another by hand."""
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(MONDAY, tick=False):
        pipeline = PipelineFactory(automation=True)
        with capture(execute=True):
            order = OrderFactory(pipeline=pipeline, client=new_york_client, owner=lisbon_rep)
        with capture(execute=True):
            move_order(order, pipeline.stages.get(key="questionnaire-received"), by=lisbon_rep)
        with capture(execute=True):
            services.send_booking_invitation(order, call_type, by=lisbon_rep)

    assert order.events.filter(kind=OrderEvent.Kind.BOOKING_INVITED).count() == 2
    assert (
        order.events.get(kind=OrderEvent.Kind.BOOKING_INVITED, actor=None).data["booking_type"]
        == call_type.pk
    )
    review_calls = reminders_of(order).filter(sequence__key="review-call")
    assert list(review_calls.values_list("status", flat=True)) == [Reminder.Status.ACTIVE]
