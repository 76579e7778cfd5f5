"""Seed 000 end to end: the shipped web-design template runs from "Order Received" to "Followup Call
Scheduled" with no human action but the client's.

The order arrives as the order form would create it (no staff member acting). From then on the only
simulated actions are the client's, through the real services behind their pages: answering and
submitting the questionnaire from the link in their e-mail (client_requests), and booking a slot from
the link in the booking e-mail (scheduling.book_slot). The clock is frozen and moved; e-mail goes over
real SMTP and the client's mailbox is what is asserted.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
import time_machine

from orderflow.accounts.models import Contact, User
from orderflow.automation.models import Reminder, RuleRun, ScheduledJob
from orderflow.automation.schedule import sweep
from orderflow.client_requests.definitions import QuestionType
from orderflow.client_requests.selectors import recipient_for_token
from orderflow.client_requests.services import save_answer, submit_request
from orderflow.pipelines.models import Order, OrderEvent, StaffTask
from orderflow.pipelines.services import create_order
from orderflow.scheduling.selectors import invitation_by_token, slot_days
from orderflow.scheduling.services import add_weekly_hours, book_slot
from tests.factories import ContactFactory, PipelineFactory, UserFactory
from tests.fixtures.smtp import ReceivedMail, SmtpServer

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]
UTC = datetime.UTC
ORDER_PLACED = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # a Monday
QUESTIONNAIRE_REMINDER = datetime.datetime(2026, 6, 8, 9, 0, tzinfo=UTC)  # 5 business days later, 09:00
CLIENT_ANSWERS = datetime.datetime(2026, 6, 9, 11, 0, tzinfo=UTC)
BOOKING_REMINDER = datetime.datetime(2026, 6, 16, 9, 0, tzinfo=UTC)  # 5 business days after the link
CLIENT_BOOKS = datetime.datetime(2026, 6, 17, 14, 0, tzinfo=UTC)
REQUEST_LINK = re.compile(r"https?://\S+/r/([\w-]+)/")
BOOKING_LINK = re.compile(r"https?://\S+/book/([\w-]+)/")

# What the client types for the questions the form requires, by question type.
ANSWERS: dict[str, str | list[str]] = {
    QuestionType.SHORT_TEXT: "Padaria Ana",
    QuestionType.LONG_TEXT: "We bake bread and cakes in Lisbon.",
    QuestionType.EMAIL: "hello@padaria-ana.pt",
    QuestionType.PHONE: "+351 912 345 678",
    QuestionType.NUMBER: "3",
    QuestionType.DATE: "2026-07-01",
    QuestionType.YES_NO: "no",
    QuestionType.RATING: "4",
}


def _mail_to(smtp: SmtpServer, address: str) -> list[ReceivedMail]:
    return [mail for mail in smtp.messages if address in mail.envelope_to]


def _the_one(mails: list[ReceivedMail], pattern: re.Pattern[str]) -> tuple[ReceivedMail, str]:
    """The only e-mail with a link of `pattern`, and the token in that link."""
    found = [(mail, match.group(1)) for mail in mails if (match := pattern.search(mail.body))]
    assert len(found) == 1, [mail.subject for mail, _token in found]
    return found[0]


def _client_answers_the_questionnaire(token: str) -> None:
    """What the client does on the page behind the link: answer every required question, then send."""
    recipient = recipient_for_token(token)
    assert recipient is not None, "the link in the e-mail does not open the questionnaire"
    for question in recipient.request.form_version.questions:
        if not question.get("required") or question.get("show_if"):
            continue
        kind = question["type"]
        if kind in (QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN):
            answer: str | list[str] = question["choices"][0]
        elif kind == QuestionType.MULTIPLE_CHOICE:
            answer = [question["choices"][0]]
        else:
            answer = ANSWERS[kind]
        save_answer(recipient, question["key"], answer)
    submit_request(recipient)


def _client_books_the_first_free_time(token: str) -> datetime.datetime:
    invitation = invitation_by_token(token)
    assert invitation is not None, "the link in the e-mail does not open the booking page"
    now = datetime.datetime.now(tz=UTC)
    days = slot_days(invitation, zone=zoneinfo.ZoneInfo("UTC"), first_day=now.date(), days=7, now=now)
    starts_at = days[0].slots[0].starts_at
    book_slot(invitation, starts_at, client_time_zone="Europe/Lisbon")
    return starts_at


def test_seed_000_runs_from_order_received_to_the_booked_review_call_with_only_the_client_acting(
    smtp_delivery: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    capture = django_capture_on_commit_callbacks
    pipeline = PipelineFactory(automation=True)  # the shipped template: its rules and reminders too
    rep: User = UserFactory(email="rita@agency.example", full_name="Rita Rep")
    for weekday in range(5):  # the rep takes calls on weekdays, 09:00-17:00 UTC (set up once, not per order)
        add_weekly_hours(rep, weekday=weekday, starts=datetime.time(9), ends=datetime.time(17))
    client: Contact = ContactFactory(name="Ana Client", email="ana@padaria.example")

    # The order form creates the order: nobody on the staff acts.
    with time_machine.travel(ORDER_PLACED, tick=False), capture(execute=True):
        order = create_order(pipeline=pipeline, client=client, title="Padaria site", by=None, owner=rep)
    order.refresh_from_db()
    assert order.stage.key == "questionnaire-sent"
    _questionnaire_mail, request_token = _the_one(_mail_to(smtp_delivery, client.email), REQUEST_LINK)

    # No answer for five business days: the first questionnaire reminder.
    with (
        time_machine.travel(QUESTIONNAIRE_REMINDER - datetime.timedelta(minutes=1), tick=False),
        capture(execute=True),
    ):
        sweep()
    with time_machine.travel(QUESTIONNAIRE_REMINDER, tick=False), capture(execute=True):
        sweep()
    subjects = [mail.subject for mail in _mail_to(smtp_delivery, client.email)]
    assert subjects.count(f"Your questionnaire for {order.reference} is waiting") == 1

    # The client answers from the link in the e-mail.
    with time_machine.travel(CLIENT_ANSWERS, tick=False), capture(execute=True):
        _client_answers_the_questionnaire(request_token)
    order.refresh_from_db()
    assert order.stage.key == "questionnaire-received"
    invitation_mail, booking_token = _the_one(_mail_to(smtp_delivery, client.email), BOOKING_LINK)
    assert invitation_mail.subject == "Please pick a time for our call"
    assert "Questionnaire review call" in invitation_mail.body

    # No booking for five business days: the first booking reminder.
    with time_machine.travel(BOOKING_REMINDER, tick=False), capture(execute=True):
        sweep()
    subjects = [mail.subject for mail in _mail_to(smtp_delivery, client.email)]
    assert subjects.count(f"Book your review call for {order.reference}") == 1

    # The client books a time from the link in the booking e-mail.
    with time_machine.travel(CLIENT_BOOKS, tick=False), capture(execute=True):
        call_at = _client_books_the_first_free_time(booking_token)
    assert call_at == datetime.datetime(2026, 6, 18, 9, 0, tzinfo=UTC)  # the first time after the notice
    order.refresh_from_db()
    assert order.stage.key == "followup-call-scheduled"

    # What the client received, in order: the questionnaire link, a reminder, the booking link, a
    # reminder and the confirmation of the call with its calendar file (besides the built-in
    # "your order moved" e-mails).
    received = _mail_to(smtp_delivery, client.email)

    def first(matches: Callable[[ReceivedMail], object]) -> int:
        return next(index for index, mail in enumerate(received) if matches(mail))

    milestones = [
        first(lambda mail: REQUEST_LINK.search(mail.body)),
        first(lambda mail: mail.subject == f"Your questionnaire for {order.reference} is waiting"),
        first(lambda mail: BOOKING_LINK.search(mail.body) and "pick a time" in mail.subject),
        first(lambda mail: mail.subject == f"Book your review call for {order.reference}"),
        first(lambda mail: mail.subject.startswith("Call booked: Questionnaire review call on")),
    ]
    assert milestones == sorted(set(milestones)), [mail.subject for mail in received]
    confirmation = received[milestones[-1]]
    assert [part.get_filename() for part in confirmation.message.iter_attachments()] == ["invite.ics"]
    assert "2026" in confirmation.subject

    # Every stage change was made by automation or the client's own action, none by staff.
    moves = order.events.filter(kind=OrderEvent.Kind.STAGE_CHANGED).order_by("id")
    assert [(event.to_stage.key, event.actor) for event in moves if event.to_stage] == [
        ("questionnaire-sent", None),
        ("questionnaire-received", None),
        ("followup-call-scheduled", None),
    ]
    assert not order.events.exclude(actor=None).exists()
    assert not RuleRun.objects.filter(outcome=RuleRun.Outcome.FAILED).exists()
    assert not ScheduledJob.objects.filter(status=ScheduledJob.Status.FAILED).exists()
    reminders = {reminder.sequence.key: reminder for reminder in Reminder.objects.filter(order=order)}
    assert {key: (r.status, r.next_step) for key, r in reminders.items()} == {
        "questionnaire": (Reminder.Status.ANSWERED, 1),
        "review-call": (Reminder.Status.ANSWERED, 1),
    }

    # Weeks later nothing more chases the client, and the owner was never asked to step in.
    before = len(_mail_to(smtp_delivery, client.email))
    with (
        time_machine.travel(datetime.datetime(2026, 8, 3, 9, 0, tzinfo=UTC), tick=False),
        capture(execute=True),
    ):
        sweep()
    assert len(_mail_to(smtp_delivery, client.email)) == before
    assert not StaffTask.objects.filter(order=order, title__startswith="No answer").exists()


def test_the_client_who_never_answers_gets_four_questionnaire_reminders_then_the_owner_a_task(
    smtp_delivery: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    capture = django_capture_on_commit_callbacks
    pipeline = PipelineFactory(automation=True)
    rep: User = UserFactory(full_name="Rita Rep")
    client: Contact = ContactFactory(name="Bruno Client", email="bruno@example.com", language="pt")
    with time_machine.travel(ORDER_PLACED, tick=False), capture(execute=True):
        order: Order = create_order(pipeline=pipeline, client=client, title="Site", by=None, owner=rep)

    for day in (8, 15, 22, 29):  # the 5th, 10th, 15th and 20th business days after Mon 1 June
        with (
            time_machine.travel(datetime.datetime(2026, 6, day, 9, 0, tzinfo=UTC), tick=False),
            capture(execute=True),
        ):
            sweep()

    expected = [
        f"O seu questionário para {order.reference} está à espera",
        f"Lembrete: o questionário para {order.reference}",
        f"O seu projeto {order.reference} aguarda as suas respostas",
        f"Último lembrete: o questionário para {order.reference}",
    ]
    subjects = [mail.subject for mail in _mail_to(smtp_delivery, client.email)]
    assert [subject for subject in subjects if subject in expected] == expected
    events = order.events.filter(kind=OrderEvent.Kind.REMINDER_SENT).order_by("id")
    assert [event.created_at for event in events] == [
        datetime.datetime(2026, 6, day, 9, 0, tzinfo=UTC) for day in (8, 15, 22, 29)
    ]
    [task] = StaffTask.objects.filter(order=order, title__startswith="No answer after the last reminder")
    assert task.assignee == rep
