"""Seed 000: the shipped web-design template runs from Order Received to Followup Call Scheduled by itself.

Only the client acts (answers the questionnaire, books the call); the requests and bookings apps are
stood in for by the events they record (REQUEST_SENT/SUBMITTED with {"request": id}, BOOKING_MADE).
"""

from __future__ import annotations

import datetime

import pytest
import time_machine

from orderflow.accounts.models import Contact, User
from orderflow.automation.models import Reminder, RuleRun
from orderflow.automation.schedule import sweep
from orderflow.automation.tests.conftest import CaptureOnCommit
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import Order, OrderEvent
from orderflow.pipelines.services import record_event
from tests.factories import OrderFactory, PipelineFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC)


def _client_event(order: Order, kind: str, capture: CaptureOnCommit, **data: int) -> None:
    with capture(execute=True):
        record_event(order, kind, by=None, audience=OrderEvent.Audience.CLIENT, data=data)


def test_seed_000_runs_from_order_received_to_the_booked_review_call(
    rep: User, client_contact: Contact, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    capture = django_capture_on_commit_callbacks
    pipeline = PipelineFactory(automation=True)
    with time_machine.travel(MONDAY, tick=False):
        with capture(execute=True):
            order = OrderFactory(pipeline=pipeline, client=client_contact, owner=rep)
        order.refresh_from_db()
        assert order.stage.key == "questionnaire-sent"
        assert order.tasks.get().title == f"Send the questionnaire to Ana Client ({order.reference})"
        _client_event(order, OrderEvent.Kind.REQUEST_SENT, capture, request=41)
    questionnaire = Reminder.objects.get(order=order, sequence__key="questionnaire")

    with time_machine.travel(datetime.datetime(2026, 6, 8, 9, 0, tzinfo=datetime.UTC), tick=False):
        with capture(execute=True):
            sweep()
        _client_event(order, OrderEvent.Kind.REQUEST_SUBMITTED, capture, request=41)
    order.refresh_from_db()
    questionnaire.refresh_from_db()
    assert order.stage.key == "questionnaire-received"
    assert (questionnaire.status, questionnaire.next_step) == (Reminder.Status.ANSWERED, 1)
    review_call = Reminder.objects.get(order=order, sequence__key="review-call")
    assert review_call.status == Reminder.Status.ACTIVE

    with time_machine.travel(datetime.datetime(2026, 6, 9, 15, 0, tzinfo=datetime.UTC), tick=False):
        _client_event(order, OrderEvent.Kind.BOOKING_MADE, capture, booking=7)

    order.refresh_from_db()
    review_call.refresh_from_db()
    assert order.stage.key == "followup-call-scheduled"
    assert review_call.status == Reminder.Status.ANSWERED
    moves = order.events.filter(kind=OrderEvent.Kind.STAGE_CHANGED).order_by("id")
    assert [(event.to_stage.key, event.actor) for event in moves if event.to_stage] == [
        ("questionnaire-sent", None),
        ("questionnaire-received", None),
        ("followup-call-scheduled", None),
    ]
    assert not RuleRun.objects.filter(outcome=RuleRun.Outcome.FAILED).exists()
    reminders = OutboxMessage.objects.filter(order=order, idempotency_key__startswith="reminder:")
    assert [mail.subject for mail in reminders] == [f"Your questionnaire for {order.reference} is waiting"]
