"""Rules: matched once per (rule, event), loops stopped, failing webhooks retried and shown, bad rules refused."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import transaction

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.automation.actions import SIGNATURE_HEADER
from orderflow.automation.models import Rule, RuleRun, ScheduledJob
from orderflow.automation.schedule import MAX_ATTEMPTS, sweep
from orderflow.automation.services import AutomationDefinitionError, save_rule
from orderflow.automation.tasks import handle_order_event
from orderflow.automation.tests.conftest import CaptureOnCommit
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import Order, OrderEvent, Pipeline, StaffTask
from orderflow.pipelines.services import move_order, record_event
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body, self.headers.get(SIGNATURE_HEADER, "")))
        self.send_response(500 if self.path == "/down" else 204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[str]:
    """A local HTTP server: /down answers 500, anything else 204; requests are kept in _Hook.received."""
    _Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _move(order: Order, key: str, by: User | None, capture: CaptureOnCommit) -> OrderEvent:
    with capture(execute=True):
        return move_order(order, order.pipeline.stages.get(key=key), by=by)


def test_order_created_rule_moves_emails_and_tags_once_even_if_the_event_is_handled_twice(
    web_pipeline: Pipeline, client_contact: Contact, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    rule = save_rule(
        web_pipeline,
        {
            "key": "welcome",
            "name": "Welcome",
            "trigger": {"kind": "order.created"},
            "conditions": [{"field": "client.language", "value": "en"}],
            "actions": [
                {"type": "move", "stage": "questionnaire-sent"},
                {
                    "type": "send_email",
                    "subject": {"en": "Hi {client_name}"},
                    "body": {"en": "Order {order_number}"},
                },
                {"type": "add_tag", "tag": "new"},
            ],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    created = order.events.get(kind=OrderEvent.Kind.CREATED)
    with django_capture_on_commit_callbacks(execute=True):
        handle_order_event(created.pk)
        handle_order_event(created.pk)

    order.refresh_from_db()
    assert order.stage.key == "questionnaire-sent"
    assert list(order.tags.values_list("name", flat=True)) == ["new"]
    [run] = RuleRun.objects.filter(rule=rule)
    assert run.outcome == RuleRun.Outcome.ACTED
    assert [action["status"] for action in run.actions] == ["done", "done", "done"]
    assert OutboxMessage.objects.filter(idempotency_key__startswith="rule-run:").count() == 1
    assert OutboxMessage.objects.get(idempotency_key__startswith="rule-run:").subject == "Hi Ana Client"
    assert order.events.filter(kind=OrderEvent.Kind.STAGE_CHANGED).count() == 1
    assert order.events.filter(kind=OrderEvent.Kind.RULE_ACTED).count() == 3


def test_a_condition_that_does_not_hold_is_logged_as_skipped_with_the_reason(
    web_pipeline: Pipeline, client_contact: Contact, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    save_rule(
        web_pipeline,
        {
            "key": "pt-only",
            "name": "Portuguese clients",
            "trigger": {"kind": "order.created"},
            "conditions": [{"field": "client.language", "value": "pt"}],
            "actions": [{"type": "add_tag", "tag": "pt"}],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory(pipeline=web_pipeline, client=client_contact)

    [run] = RuleRun.objects.all()
    assert run.outcome == RuleRun.Outcome.SKIPPED
    assert run.reason == "client.language equals pt is not true (it is en)"
    assert not order.tags.exists()


def test_two_rules_that_would_move_an_order_back_and_forth_are_stopped_and_reported(
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    save_rule(
        web_pipeline,
        {
            "key": "ping",
            "name": "Ping",
            "trigger": {"kind": "stage.entered", "stage": "questionnaire-sent"},
            "actions": [{"type": "move", "stage": "questionnaire-received"}],
        },
    )
    save_rule(
        web_pipeline,
        {
            "key": "pong",
            "name": "Pong",
            "trigger": {"kind": "stage.entered", "stage": "questionnaire-received"},
            "actions": [{"type": "move", "stage": "questionnaire-sent"}],
        },
    )
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, by=rep)

    _move(order, "questionnaire-sent", rep, django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.stage.key == "questionnaire-sent"
    assert order.events.filter(kind=OrderEvent.Kind.STAGE_CHANGED).count() == 3  # rep, ping, pong
    [stopped] = RuleRun.objects.filter(outcome=RuleRun.Outcome.LOOP_STOPPED)
    assert stopped.rule.key == "ping"
    assert stopped.reason == "Stopped a loop: Ping → Pong would trigger “Ping” again"


def test_a_failing_webhook_is_retried_with_backoff_then_shown_failed_and_blocks_nothing(
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    hook_server: str,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    capture = django_capture_on_commit_callbacks
    save_rule(
        web_pipeline,
        {
            "key": "tell-crm",
            "name": "Tell the CRM",
            "trigger": {"kind": "stage.entered", "stage": "questionnaire-sent"},
            "actions": [
                {"type": "webhook", "url": f"{hook_server}/down", "secret": "s3cret", "timeout": 2},
                {"type": "webhook", "url": f"{hook_server}/up", "secret": "s3cret"},
                {"type": "create_task", "title": "Call {client_name}"},
            ],
        },
    )
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, by=rep)
    start = datetime.datetime(2026, 5, 4, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        _move(order, "questionnaire-sent", rep, capture)

    order.refresh_from_db()
    assert order.stage.key == "questionnaire-sent"  # the move stands
    assert StaffTask.objects.get(order=order).title == "Call Ana Client"
    down = ScheduledJob.objects.get(payload__action=0, kind=ScheduledJob.Kind.RULE_ACTION)
    assert (down.status, down.attempts) == (ScheduledJob.Status.PENDING, 1)
    assert down.last_error == "OSError: webhook answered HTTP 500"
    assert down.due_at == start + datetime.timedelta(seconds=30)
    paths = [path for path, _body, _signature in _Hook.received]
    assert paths == ["/down", "/up"]
    _path, body, signature = _Hook.received[1]
    assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert json.loads(body)["order"]["number"] == order.reference

    moment = start
    for _attempt in range(MAX_ATTEMPTS - 1):
        moment += datetime.timedelta(hours=2)
        with time_machine.travel(moment, tick=False), capture(execute=True):
            sweep()
    down.refresh_from_db()
    assert (down.status, down.attempts) == (ScheduledJob.Status.FAILED, MAX_ATTEMPTS)
    run = RuleRun.objects.get()
    assert run.outcome == RuleRun.Outcome.FAILED
    assert [action["status"] for action in run.actions] == ["failed", "done", "done"]
    assert run.actions[0]["detail"] == "OSError: webhook answered HTTP 500"
    assert [path for path, _body, _signature in _Hook.received].count("/up") == 1


def test_round_robin_gives_orders_to_the_least_recently_assigned_rep(
    web_pipeline: Pipeline, client_contact: Contact, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    reps = [UserFactory(role=Role.REP) for _ in range(3)]
    UserFactory(role=Role.MANAGER)
    save_rule(
        web_pipeline,
        {
            "key": "assign",
            "name": "Assign",
            "trigger": {"kind": "order.created"},
            "actions": [{"type": "assign_owner", "group": "rep"}],
        },
    )
    owners = []
    for minute in range(4):
        with (
            time_machine.travel(datetime.datetime(2026, 5, 4, 10, minute, tzinfo=datetime.UTC), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            order = OrderFactory(pipeline=web_pipeline, client=client_contact)
        order.refresh_from_db()
        owners.append(order.owner)

    assert owners == [reps[0], reps[1], reps[2], reps[0]]


def test_no_activity_for_n_business_days_in_a_stage_fires_once(
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    capture = django_capture_on_commit_callbacks
    save_rule(
        web_pipeline,
        {
            "key": "stuck",
            "name": "Stuck in design",
            "trigger": {"kind": "stage.inactive", "stage": "questionnaire-sent", "days": 3},
            "actions": [{"type": "add_tag", "tag": "stuck"}],
        },
    )
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, by=rep)
    with time_machine.travel(datetime.datetime(2026, 5, 4, 10, 0, tzinfo=datetime.UTC), tick=False):  # Monday
        _move(order, "questionnaire-sent", rep, capture)
    with (
        time_machine.travel(datetime.datetime(2026, 5, 5, 10, 0, tzinfo=datetime.UTC), tick=False),
        capture(execute=True),
    ):
        record_event(order, OrderEvent.Kind.MESSAGE_RECEIVED, by=None)  # activity on Tuesday
    with (
        time_machine.travel(datetime.datetime(2026, 5, 7, 10, 0, tzinfo=datetime.UTC), tick=False),
        capture(execute=True),
    ):
        sweep()  # Thursday: 3 business days after Monday, but only 2 after the message
    assert not order.tags.exists()
    with (
        time_machine.travel(datetime.datetime(2026, 5, 8, 10, 0, tzinfo=datetime.UTC), tick=False),
        capture(execute=True),
    ):
        sweep()
        sweep()
    assert list(order.tags.values_list("name", flat=True)) == ["stuck"]
    assert RuleRun.objects.filter(rule__key="stuck").count() == 1


@pytest.mark.parametrize(
    ("definition", "problem"),
    [
        (
            {
                "trigger": {"kind": "stage.entered", "stage": "launch"},
                "actions": [{"type": "add_tag", "tag": "x"}],
            },
            ("trigger.stage", "'launch' is not a stage of “Website project”"),
        ),
        (
            {"trigger": {"kind": "order.created"}, "actions": [{"type": "move", "stage": "nowhere"}]},
            ("actions[0].stage", "'nowhere' is not a stage of “Website project”"),
        ),
        (
            {
                "trigger": {"kind": "order.created"},
                "conditions": [{"field": "fields.colour", "value": "red"}],
                "actions": [{"type": "add_tag", "tag": "x"}],
            },
            ("conditions[0].field", "'colour' is not a field of “Website project”"),
        ),
        (
            {"trigger": {"kind": "order.created"}, "actions": [{"type": "send_email", "template": "nope"}]},
            ("actions[0].template", "there is no e-mail template 'nope'"),
        ),
        (
            {
                "trigger": {"kind": "order.created"},
                "actions": [{"type": "send_email", "subject": {"en": "Hi {name}"}, "body": {"en": "x"}}],
            },
            ("actions[0].subject.en", "unknown placeholder {name}"),
        ),
    ],
)
def test_a_rule_naming_something_missing_cannot_be_saved(
    web_pipeline: Pipeline, definition: dict[str, Any], problem: tuple[str, str]
) -> None:
    with pytest.raises(AutomationDefinitionError) as refused:
        save_rule(web_pipeline, {"key": "bad", "name": "Bad", **definition})

    [(path, message)] = refused.value.problems
    assert path == problem[0]
    assert message.startswith(problem[1])
    assert not Rule.objects.exists()


def test_a_rule_sends_the_questionnaire_from_the_library_and_its_reminders_start(
    web_pipeline: Pipeline,
    client_contact: Contact,
    questionnaire_reminders: object,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from orderflow.automation.models import Reminder
    from orderflow.client_requests.services import install_starter_forms

    install_starter_forms(by=None)
    save_rule(
        web_pipeline,
        {
            "key": "questionnaire",
            "name": "Send the questionnaire",
            "trigger": {"kind": "order.created"},
            "actions": [
                {"type": "send_request", "form": "Website questionnaire", "message": "Hello {client_name}"},
            ],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory(pipeline=web_pipeline, client=client_contact)

    [sent] = order.events.filter(kind=OrderEvent.Kind.REQUEST_SENT)
    assert sent.message == "Website questionnaire"
    reminder = Reminder.objects.get(order=order)
    assert reminder.awaited_id == str(sent.data["request"])
    with pytest.raises(AutomationDefinitionError) as refused:
        save_rule(
            web_pipeline,
            {
                "key": "other",
                "name": "Other",
                "trigger": {"kind": "order.created"},
                "actions": [{"type": "send_request", "form": "Tax organiser"}],
            },
        )
    assert refused.value.problems == [
        ("actions[0].form", "there is no request form called “Tax organiser” in the library")
    ]


def test_a_rule_sends_a_booking_invitation_when_the_questionnaire_is_received(
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from orderflow.scheduling.models import BookingInvitation, BookingType

    BookingType.objects.create(name="Review call", duration_minutes=30)
    save_rule(
        web_pipeline,
        {
            "key": "invite",
            "name": "Invite to the review call",
            "trigger": {"kind": "stage.entered", "stage": "questionnaire-received"},
            "actions": [{"type": "send_booking_invitation", "booking_type": "Review call"}],
        },
    )
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, by=rep)

    _move(order, "questionnaire-received", rep, django_capture_on_commit_callbacks)

    assert BookingInvitation.objects.filter(order=order).count() == 1
    assert OutboxMessage.objects.filter(order=order, subject="Please pick a time for our call").exists()
    assert RuleRun.objects.get().outcome == RuleRun.Outcome.ACTED
    with pytest.raises(AutomationDefinitionError) as refused:
        save_rule(
            web_pipeline,
            {
                "key": "bad",
                "name": "Bad",
                "trigger": {"kind": "order.created"},
                "actions": [{"type": "send_booking_invitation", "booking_type": "Site visit"}],
            },
        )
    assert refused.value.problems == [
        ("actions[0].booking_type", "there is no kind of call called “Site visit”")
    ]


@pytest.mark.parametrize(
    ("kind", "part"),
    [
        ("payment.received", "payments"),
        ("message.received", "messaging"),
        ("bid.deadline_passed", "the contractor marketplace"),
    ],
)
def test_a_rule_waiting_for_something_nothing_records_yet_is_refused_naming_the_missing_part(
    web_pipeline: Pipeline, kind: str, part: str
) -> None:
    with pytest.raises(AutomationDefinitionError) as refused:
        save_rule(
            web_pipeline,
            {
                "key": "never",
                "name": "Never",
                "trigger": {"kind": kind},
                "actions": [{"type": "add_tag", "tag": "x"}],
            },
        )

    [(path, message)] = refused.value.problems
    assert path == "trigger.kind"
    assert message.startswith(f"'{kind}' can never happen yet: nothing in Orderflow records it until {part}")
    assert message.endswith("so a rule waiting for it would never run")
    assert not Rule.objects.exists()


class _SlowHook(http.server.BaseHTTPRequestHandler):
    """Answers after SLEEP seconds while `slow` (past the webhook's timeout), else at once with 503.

    While it sleeps it takes the order, job and rule-run rows from another database connection:
    `waited` keeps how long that took (a worker holding a transaction would make it wait).
    """

    SLEEP = 1.5
    slow = True
    order_id = 0
    calls = 0
    waited: list[float] = []

    def do_POST(self) -> None:
        from django.db import connection
        from django.db.models import F

        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls += 1
        if not type(self).slow:
            self.send_response(503)
            self.end_headers()
            return
        started = time.perf_counter()
        try:
            with transaction.atomic():  # on SQLite: BEGIN IMMEDIATE, the database's one write lock
                if connection.features.has_select_for_update_nowait:
                    list(Order.objects.select_for_update(nowait=True).filter(pk=self.order_id))
                    list(ScheduledJob.objects.select_for_update(nowait=True).all())
                    list(RuleRun.objects.select_for_update(nowait=True).all())
                Order.objects.filter(pk=self.order_id).update(title=F("title"))
            type(self).waited.append(time.perf_counter() - started)
        finally:
            connection.close()
        time.sleep(self.SLEEP)
        try:
            self.send_response(204)
            self.end_headers()
        except OSError:
            pass  # the caller gave up waiting, as it should

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_hook_server() -> Iterator[str]:
    _SlowHook.slow, _SlowHook.calls, _SlowHook.waited = True, 0, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowHook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_a_webhook_that_sleeps_past_its_timeout_holds_no_lock_is_retried_then_shown_failed_and_the_move_stands(
    web_pipeline: Pipeline, rep: User, client_contact: Contact, slow_hook_server: str, client: Any
) -> None:
    from django.urls import reverse

    save_rule(
        web_pipeline,
        {
            "key": "tell-crm",
            "name": "Tell the CRM",
            "trigger": {"kind": "stage.entered", "stage": "questionnaire-sent"},
            "actions": [{"type": "webhook", "url": f"{slow_hook_server}/orders", "timeout": 1}],
        },
    )
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, by=rep)
    _SlowHook.order_id = order.pk
    start = datetime.datetime(2026, 5, 4, 10, 0, tzinfo=datetime.UTC)

    with time_machine.travel(start, tick=False):
        move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=rep)  # the worker runs inline

    order.refresh_from_db()
    assert order.stage.key == "questionnaire-sent"  # the move stands
    assert _SlowHook.calls == 1
    [waited] = _SlowHook.waited
    assert waited < 0.5, f"another connection waited {waited:.2f} s for a lock during the webhook call"
    job = ScheduledJob.objects.get(kind=ScheduledJob.Kind.RULE_ACTION)
    assert (job.status, job.attempts) == (ScheduledJob.Status.PENDING, 1)
    assert job.last_error == "OSError: webhook did not answer within 1 s"
    assert job.due_at == start + datetime.timedelta(seconds=30)  # the first backoff
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    page = client.get(reverse("automation:home")).text
    assert "Failed or retrying" in page
    assert "webhook did not answer within 1 s" in page

    _SlowHook.slow = False  # the receiver now answers at once, with an error
    for attempt in range(2, MAX_ATTEMPTS + 1):
        job.refresh_from_db()
        assert job.status == ScheduledJob.Status.PENDING
        with time_machine.travel(job.due_at - datetime.timedelta(seconds=1), tick=False):
            assert sweep() == 0  # not before its backoff has passed
        with time_machine.travel(job.due_at, tick=False):
            sweep()
        assert _SlowHook.calls == attempt

    job.refresh_from_db()
    assert (job.status, job.attempts) == (ScheduledJob.Status.FAILED, MAX_ATTEMPTS)
    assert job.last_error == "OSError: webhook answered HTTP 503"
    run = RuleRun.objects.get()
    assert run.outcome == RuleRun.Outcome.FAILED
    page = client.get(reverse("automation:home")).text
    assert "Try again" in page
    assert "webhook answered HTTP 503" in page
    order.refresh_from_db()
    assert order.stage.key == "questionnaire-sent"
    assert not order.events.filter(kind=OrderEvent.Kind.RULE_ACTED).exists()


def test_a_rule_email_to_a_client_who_refused_email_sends_nothing_and_says_so(
    web_pipeline: Pipeline, client_contact: Contact, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client_contact.opted_out_channels = ["email"]
    client_contact.save()
    save_rule(
        web_pipeline,
        {
            "key": "hello",
            "name": "Hello",
            "trigger": {"kind": "order.created"},
            "actions": [
                {"type": "send_email", "subject": {"en": "Hi"}, "body": {"en": "Hello {client_name}"}}
            ],
        },
    )

    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory(pipeline=web_pipeline, client=client_contact)

    assert not OutboxMessage.objects.filter(idempotency_key__startswith="rule-run:").exists()
    [run] = RuleRun.objects.all()
    assert run.actions[0]["detail"] == "No e-mail sent: Ana Client has refused e-mail"
    [acted] = order.events.filter(kind=OrderEvent.Kind.RULE_ACTED)
    assert acted.message == "Hello: No e-mail sent: Ana Client has refused e-mail"


def test_saving_a_rule_that_names_a_starter_form_or_call_adds_it_to_an_empty_library(
    web_pipeline: Pipeline,
) -> None:
    from orderflow.client_requests.models import FormTemplate
    from orderflow.scheduling.models import BookingType

    assert not FormTemplate.objects.exists()
    save_rule(
        web_pipeline,
        {
            "key": "start",
            "name": "Start",
            "trigger": {"kind": "order.created"},
            "actions": [
                {"type": "send_request", "form": "Website questionnaire"},
                {"type": "send_booking_invitation", "booking_type": "Questionnaire review call"},
            ],
        },
    )

    assert FormTemplate.objects.filter(name="Website questionnaire", is_template=True).exists()
    assert BookingType.objects.get().name == "Questionnaire review call"


def test_a_booking_invitation_sent_by_a_rule_starts_its_reminders_and_booking_stops_them(
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from orderflow.automation.models import Reminder
    from orderflow.automation.services import save_sequence
    from orderflow.automation.tests.conftest import questionnaire_steps
    from orderflow.scheduling.models import BookingType

    capture = django_capture_on_commit_callbacks
    call = BookingType.objects.create(name="Review call", duration_minutes=30)
    other_call = BookingType.objects.create(name="Launch call", duration_minutes=30)
    save_rule(
        web_pipeline,
        {
            "key": "invite",
            "name": "Invite",
            "trigger": {"kind": "stage.entered", "stage": "questionnaire-received"},
            "actions": [{"type": "send_booking_invitation", "booking_type": "Review call"}],
        },
    )
    save_sequence(
        web_pipeline,
        {"key": "book", "name": "Book your call", "start": "booking.invited", "steps": questionnaire_steps()},
    )
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, by=rep)

    _move(order, "questionnaire-received", rep, capture)

    reminder = Reminder.objects.get(order=order)
    assert (reminder.status, reminder.awaited_id) == (Reminder.Status.ACTIVE, str(call.pk))
    with capture(execute=True):  # another kind of call booked: not the awaited one
        record_event(
            order, OrderEvent.Kind.BOOKING_MADE, by=None, data={"booking": 1, "booking_type": other_call.pk}
        )
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.ACTIVE
    with capture(execute=True):
        record_event(
            order, OrderEvent.Kind.BOOKING_MADE, by=None, data={"booking": 2, "booking_type": call.pk}
        )
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.ANSWERED
