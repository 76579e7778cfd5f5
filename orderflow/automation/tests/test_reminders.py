"""Reminder sequences: exact business-day dates with a frozen clock and the real sweep, cancellation, controls."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
import time_machine

from orderflow.accounts.models import Contact, User
from orderflow.automation.models import Reminder, ReminderSequence, ScheduledJob
from orderflow.automation.reminders import (
    ReminderError,
    next_reminder_for,
    pause_reminder,
    resume_reminder,
    send_reminder_now,
    skip_reminder_step,
)
from orderflow.automation.schedule import sweep
from orderflow.automation.tests.conftest import CaptureOnCommit, set_calendar
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import Order, OrderEvent, Pipeline, StaffTask
from orderflow.pipelines.services import record_event
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
LISBON = zoneinfo.ZoneInfo("Europe/Lisbon")


def _send_request(order: Order, capture: CaptureOnCommit, request_id: int = 7) -> OrderEvent:
    with capture(execute=True):
        return record_event(
            order,
            OrderEvent.Kind.REQUEST_SENT,
            by=None,
            audience=OrderEvent.Audience.CLIENT,
            data={"request": request_id},
        )


def _sweep(capture: CaptureOnCommit) -> int:
    with capture(execute=True):
        return sweep()


def _reminders_sent(order: Order) -> list[OrderEvent]:
    return list(order.events.filter(kind=OrderEvent.Kind.REMINDER_SENT).order_by("id"))


def _walk_through(
    order: Order, expected: list[datetime.datetime], capture: CaptureOnCommit
) -> list[datetime.datetime]:
    """Sweep a minute before and at each expected time; return when each reminder was actually sent."""
    sent_at: list[datetime.datetime] = []
    for due in expected:
        with time_machine.travel(due - datetime.timedelta(minutes=1), tick=False):
            _sweep(capture)
        assert len(_reminders_sent(order)) == len(sent_at), f"a reminder went out before {due}"
        with time_machine.travel(due, tick=False):
            _sweep(capture)
        events = _reminders_sent(order)
        assert len(events) == len(sent_at) + 1, f"no reminder at {due}"
        sent_at.append(events[-1].created_at)
    return sent_at


def test_us_questionnaire_sent_on_a_december_friday_is_reminded_on_the_5th_10th_15th_20th_business_days(
    web_pipeline: Pipeline,
    questionnaire_reminders: ReminderSequence,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    set_calendar("America/New_York", "US")
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, owner=rep)
    with time_machine.travel(datetime.datetime(2026, 12, 18, 15, 30, tzinfo=NEW_YORK), tick=False):
        _send_request(order, django_capture_on_commit_callbacks)
    # Business days skip Christmas (Fri 25 Dec), New Year's Day (Fri 1 Jan) and MLK Day (Mon 18 Jan).
    expected = [
        datetime.datetime(2026, 12, 28, 9, 0, tzinfo=NEW_YORK),
        datetime.datetime(2027, 1, 5, 9, 0, tzinfo=NEW_YORK),
        datetime.datetime(2027, 1, 12, 9, 0, tzinfo=NEW_YORK),
        datetime.datetime(2027, 1, 20, 9, 0, tzinfo=NEW_YORK),
    ]

    sent_at = _walk_through(order, expected, django_capture_on_commit_callbacks)

    assert sent_at == expected
    mails = OutboxMessage.objects.filter(order=order, idempotency_key__startswith="reminder:").order_by("id")
    assert [mail.subject for mail in mails] == [
        f"Reminder {n}: your questionnaire for {order.reference}" for n in (1, 2, 3, 4)
    ]
    assert mails[1].body_text == "Hello Ana Client, reminder 2 of 4."
    reminder = Reminder.objects.get(order=order)
    assert reminder.status == Reminder.Status.FINISHED
    [task] = StaffTask.objects.filter(order=order)
    assert task.assignee == rep
    assert "No answer after the last reminder" in task.title
    with time_machine.travel(datetime.datetime(2027, 3, 1, tzinfo=NEW_YORK), tick=False):
        assert _sweep(django_capture_on_commit_callbacks) == 0
    assert len(_reminders_sent(order)) == 4


def test_lisbon_reminders_stay_at_nine_across_the_end_of_summer_time(
    web_pipeline: Pipeline,
    questionnaire_reminders: ReminderSequence,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    set_calendar("Europe/Lisbon", "PT")
    client_contact.language = "pt"
    client_contact.save()
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    with time_machine.travel(datetime.datetime(2026, 10, 16, 16, 45, tzinfo=LISBON), tick=False):
        _send_request(order, django_capture_on_commit_callbacks)
    expected = [
        datetime.datetime(2026, 10, 23, 9, 0, tzinfo=LISBON),  # summer time: 08:00 UTC
        datetime.datetime(2026, 10, 30, 9, 0, tzinfo=LISBON),  # clocks went back on 25 Oct: 09:00 UTC
        datetime.datetime(2026, 11, 6, 9, 0, tzinfo=LISBON),
        datetime.datetime(2026, 11, 13, 9, 0, tzinfo=LISBON),
    ]

    sent_at = _walk_through(order, expected, django_capture_on_commit_callbacks)

    assert sent_at == expected
    assert sent_at[0].astimezone(datetime.UTC).hour == 8
    assert sent_at[1].astimezone(datetime.UTC).hour == 9
    subjects = OutboxMessage.objects.filter(order=order, idempotency_key__startswith="reminder:")
    assert {mail.subject for mail in subjects} == {"Lembrete 1", "Lembrete 2", "Lembrete 3", "Lembrete 4"}


def test_answering_after_the_second_reminder_cancels_the_rest(
    web_pipeline: Pipeline,
    questionnaire_reminders: ReminderSequence,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    set_calendar("America/New_York", "US")
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(datetime.datetime(2026, 12, 18, 15, 30, tzinfo=NEW_YORK), tick=False):
        _send_request(order, capture, request_id=7)
        _send_request(order, capture, request_id=8)  # another request, answered later
    with time_machine.travel(datetime.datetime(2027, 1, 5, 9, 0, tzinfo=NEW_YORK), tick=False):
        _sweep(capture)
        _sweep(capture)
    assert len(_reminders_sent(order)) == 4  # steps 1 and 2 of both requests
    with (
        time_machine.travel(datetime.datetime(2027, 1, 6, 11, 0, tzinfo=NEW_YORK), tick=False),
        capture(execute=True),
    ):
        record_event(order, OrderEvent.Kind.REQUEST_SUBMITTED, by=None, data={"request": 7})

    answered = Reminder.objects.get(order=order, awaited_id="7")
    assert answered.status == Reminder.Status.ANSWERED
    assert answered.next_step == 2
    [stopped] = order.events.filter(kind=OrderEvent.Kind.REMINDERS_STOPPED)
    assert stopped.data["reminder"] == answered.pk
    with time_machine.travel(datetime.datetime(2027, 2, 1, 9, 0, tzinfo=NEW_YORK), tick=False):
        _sweep(capture)
    by_reminder = {
        key: sum(1 for event in _reminders_sent(order) if event.data["reminder"] == pk)
        for key, pk in (("7", answered.pk), ("8", Reminder.objects.get(awaited_id="8").pk))
    }
    assert by_reminder == {"7": 2, "8": 3}  # request 8 goes on (one more step due by 1 Feb)
    assert not StaffTask.objects.filter(order=order).exists()


def test_the_order_card_says_which_reminder_is_next_and_when(
    django_assert_num_queries: Any,
    web_pipeline: Pipeline,
    questionnaire_reminders: ReminderSequence,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    set_calendar("America/New_York", "US")
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    assert next_reminder_for(order) is None
    with time_machine.travel(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=NEW_YORK), tick=False):
        _send_request(order, django_capture_on_commit_callbacks)
    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, 0, tzinfo=NEW_YORK), tick=False):
        _sweep(django_capture_on_commit_callbacks)

    with django_assert_num_queries(2):
        upcoming = next_reminder_for(order)

    assert upcoming is not None
    assert (upcoming.step, upcoming.steps) == (2, 4)
    assert str(upcoming) == "reminder 2 of 4, Thu 10 Dec 09:00"  # Thanksgiving is skipped


def test_staff_pause_skip_and_send_now(
    web_pipeline: Pipeline,
    questionnaire_reminders: ReminderSequence,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    set_calendar("UTC", "")
    capture = django_capture_on_commit_callbacks
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    start = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)  # a Monday
    with time_machine.travel(start, tick=False):
        _send_request(order, capture)
        reminder = Reminder.objects.get(order=order)

        paused = pause_reminder(reminder)
        assert paused.next_due_at is None
        with pytest.raises(ReminderError):
            skip_reminder_step(paused)
        resumed = resume_reminder(paused)
        assert resumed.next_due_at == datetime.datetime(2026, 3, 9, 9, 0, tzinfo=datetime.UTC)

        skipped = skip_reminder_step(resumed)
        assert (skipped.next_step, skipped.next_due_at) == (
            1,
            datetime.datetime(2026, 3, 16, 9, 0, tzinfo=datetime.UTC),
        )

        with capture(execute=True):
            send_reminder_now(skipped)
        [event] = _reminders_sent(order)
        assert event.data["step"] == 2
    reminder.refresh_from_db()
    assert reminder.next_step == 2
    assert reminder.next_due_at == datetime.datetime(2026, 3, 23, 9, 0, tzinfo=datetime.UTC)
    pending = ScheduledJob.objects.filter(status=ScheduledJob.Status.PENDING)
    assert [job.payload["step"] for job in pending] == [2]


def test_running_the_same_event_twice_starts_one_reminder(
    web_pipeline: Pipeline,
    questionnaire_reminders: ReminderSequence,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from orderflow.automation.tasks import handle_order_event

    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    event = _send_request(order, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        handle_order_event(event.pk)

    assert Reminder.objects.filter(order=order).count() == 1
    assert ScheduledJob.objects.filter(kind=ScheduledJob.Kind.REMINDER_STEP).count() == 1


def test_cancelling_the_order_stops_its_reminders(
    web_pipeline: Pipeline,
    questionnaire_reminders: ReminderSequence,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from orderflow.pipelines.services import move_order

    order = OrderFactory(pipeline=web_pipeline, client=client_contact, by=rep)
    _send_request(order, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, web_pipeline.stages.get(key="cancelled"), by=rep)

    reminder = Reminder.objects.get(order=order)
    assert (reminder.status, reminder.stopped_reason) == (Reminder.Status.STOPPED, "The order was closed")
    assert not ScheduledJob.objects.filter(status=ScheduledJob.Status.PENDING).exists()


def test_a_reminder_goes_on_the_first_channel_the_client_did_not_refuse_in_their_language_and_hours(
    web_pipeline: Pipeline,
    questionnaire_reminders: ReminderSequence,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from orderflow.notifications.models import InboxNotification

    set_calendar("Europe/Lisbon", "PT")
    client_contact.language = "pt"
    client_contact.channels = ["email", "portal"]
    client_contact.opted_out_channels = ["email"]
    client_contact.time_zone = "Europe/Lisbon"
    client_contact.delivery_window_start = datetime.time(14, 0)
    client_contact.delivery_window_end = datetime.time(18, 0)
    client_contact.save()
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LISBON), tick=False):  # Monday
        _send_request(order, django_capture_on_commit_callbacks)
    with time_machine.travel(datetime.datetime(2026, 3, 9, 9, 0, tzinfo=LISBON), tick=False):
        _sweep(django_capture_on_commit_callbacks)

    [message] = OutboxMessage.objects.filter(order=order, idempotency_key__startswith="reminder:")
    assert (message.channel, message.language, message.subject) == ("portal", "pt", "Lembrete 1")
    assert message.deliver_after == datetime.datetime(2026, 3, 9, 14, 0, tzinfo=LISBON)  # their window
    [sent] = _reminders_sent(order)
    assert sent.data["channel"] == "portal"
    assert not InboxNotification.objects.exists()  # not before 14:00 in Lisbon
    with time_machine.travel(datetime.datetime(2026, 3, 9, 14, 0, tzinfo=LISBON), tick=False):
        from orderflow.notifications.services import deliver_due_messages

        with django_capture_on_commit_callbacks(execute=True):
            deliver_due_messages()
    assert InboxNotification.objects.filter(contact=client_contact).count() == 1


def test_a_client_reachable_on_no_channel_gets_no_pretend_reminder_the_owner_gets_a_task_and_resume_works(
    web_pipeline: Pipeline,
    questionnaire_reminders: ReminderSequence,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    capture = django_capture_on_commit_callbacks
    set_calendar("UTC", "")
    silent = Contact.objects.create(name="Silent Client", email="", phone="")
    order = OrderFactory(pipeline=web_pipeline, client=silent, owner=rep)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC), tick=False):
        _send_request(order, capture)
    with time_machine.travel(datetime.datetime(2026, 3, 9, 9, 0, tzinfo=datetime.UTC), tick=False):
        _sweep(capture)

    assert not _reminders_sent(order)
    assert not OutboxMessage.objects.filter(order=order).exists()
    [failed] = order.events.filter(kind=OrderEvent.Kind.NOTIFICATION_FAILED)
    assert failed.message == (
        "Questionnaire: reminder 1 of 4 not sent: Silent Client cannot be reached on any channel they accept"
    )
    reminder = Reminder.objects.get(order=order)
    assert (reminder.status, reminder.next_step) == (Reminder.Status.PAUSED, 0)
    [task] = StaffTask.objects.filter(order=order)
    assert task.assignee == rep
    assert task.title.startswith("Remind Silent Client yourself (Questionnaire, reminder 1 of 4)")

    silent.email = "found@example.com"
    silent.save()
    with time_machine.travel(datetime.datetime(2026, 3, 9, 11, 0, tzinfo=datetime.UTC), tick=False):
        resumed = resume_reminder(reminder)
    assert (resumed.status, resumed.stopped_reason) == (Reminder.Status.ACTIVE, "")
    assert resumed.next_due_at == datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC), tick=False):
        _sweep(capture)
    [sent] = _reminders_sent(order)
    assert sent.data["step"] == 1
    assert OutboxMessage.objects.get(order=order).recipient == "found@example.com"


def test_a_sequence_tied_to_a_stage_stops_when_the_order_leaves_that_stage(
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from orderflow.automation.services import save_sequence
    from orderflow.automation.tests.conftest import questionnaire_steps
    from orderflow.pipelines.services import move_order

    save_sequence(
        web_pipeline,
        {
            "key": "questionnaire",
            "name": "Questionnaire",
            "start": "request.sent",
            "stage": "questionnaire-sent",
            "steps": questionnaire_steps(),
        },
    )
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, by=rep)
    _send_request(order, django_capture_on_commit_callbacks, request_id=5)
    assert not Reminder.objects.exists()  # not in the stage yet: the sequence does not start
    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=rep)
    _send_request(order, django_capture_on_commit_callbacks, request_id=6)
    reminder = Reminder.objects.get(order=order)

    with django_capture_on_commit_callbacks(execute=True):  # the client answered by e-mail; the rep moves on
        move_order(order, web_pipeline.stages.get(key="questionnaire-received"), by=rep)

    reminder.refresh_from_db()
    assert (reminder.status, reminder.stopped_reason) == (Reminder.Status.STOPPED, "The order left the stage")
    assert not ScheduledJob.objects.filter(status=ScheduledJob.Status.PENDING).exists()
