"""The outbox end to end: the client's hours, language and channel, fallbacks and provider failures.

Real parts only: aiosmtpd receives the e-mail, a local HTTP server receives what Apprise posts for
json:// URLs, and time-machine freezes the clock.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.utils.timezone import now as timezone_now

from orderflow.accounts.models import Contact, User
from orderflow.notifications import selectors, services
from orderflow.notifications.models import AppriseEndpoint, InboxNotification, OutboxMessage
from orderflow.notifications.preferences import update_contact_preferences
from orderflow.notifications.tests.conftest import HttpEndpoint
from orderflow.pipelines.models import Order, OrderEvent, Pipeline, StaffTask
from orderflow.pipelines.services import move_order
from tests.factories import ContactFactory, OrderFactory
from tests.fixtures.smtp import SmtpServer, smtp_mailers, unused_tcp_port

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]
UTC = datetime.UTC
LISBON = zoneinfo.ZoneInfo("Europe/Lisbon")


def _client(**preferences: Any) -> Contact:
    language = preferences.pop("language", "en")
    contact = ContactFactory(
        name="Ana Client", email="ana@example.com", language=language, time_zone="Europe/Lisbon"
    )
    arguments = {"channels": ["email"], "window_start": datetime.time(9), "window_end": datetime.time(21)}
    return update_contact_preferences(contact, by=None, **{**arguments, **preferences})


def _move(order: Order, rep: User, capture: CaptureOnCommit, key: str = "questionnaire-sent") -> OrderEvent:
    with capture(execute=True):
        return move_order(order, order.pipeline.stages.get(key=key), by=rep)


def _sweep(capture: CaptureOnCommit) -> int:
    with capture(execute=True):
        return services.deliver_due_messages()


@pytest.mark.parametrize(
    ("evening", "next_morning_utc"),
    [
        pytest.param(
            datetime.datetime(2026, 11, 23, 22, 30, tzinfo=LISBON),
            datetime.datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
            id="ordinary-night",
        ),
        pytest.param(
            datetime.datetime(2026, 10, 24, 22, 30, tzinfo=LISBON),  # clocks go back at 02:00
            datetime.datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
            id="clocks-go-back",
        ),
        pytest.param(
            datetime.datetime(2026, 3, 28, 22, 30, tzinfo=LISBON),  # clocks go forward at 01:00
            datetime.datetime(2026, 3, 29, 8, 0, tzinfo=UTC),
            id="clocks-go-forward",
        ),
    ],
)
def test_a_stage_change_at_half_past_ten_reaches_the_client_at_nine_next_morning(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    evening: datetime.datetime,
    next_morning_utc: datetime.datetime,
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=_client())
    with time_machine.travel(evening, tick=False):
        _move(order, rep, django_capture_on_commit_callbacks)
        assert _sweep(django_capture_on_commit_callbacks) == 0
    message = OutboxMessage.objects.get(order=order)
    assert message.deliver_after == next_morning_utc
    assert message.deliver_after.astimezone(LISBON).time() == datetime.time(9, 0)
    assert smtp_delivery.messages == []

    with time_machine.travel(next_morning_utc - datetime.timedelta(seconds=1), tick=False):
        assert _sweep(django_capture_on_commit_callbacks) == 0
    with time_machine.travel(next_morning_utc, tick=False):
        assert _sweep(django_capture_on_commit_callbacks) == 1

    [mail] = smtp_delivery.wait_for(1)
    assert mail.envelope_to == ["ana@example.com"]
    message.refresh_from_db()
    assert (message.status, message.sent_at) == (OutboxMessage.Status.SENT, next_morning_utc)


def test_an_urgent_message_does_not_wait_for_the_morning(
    smtp_delivery: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client = _client()
    with (
        time_machine.travel(datetime.datetime(2026, 11, 23, 23, 0, tzinfo=LISBON), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.queue_email(
            key="login-link:1",
            recipient=client.email,
            subject="Your login link",
            body_text="…",
            language="en",
            contact=client,
            urgent=True,
        )
    [mail] = smtp_delivery.wait_for(1)
    assert mail.subject == "Your login link"


def test_a_russian_speaking_client_gets_the_russian_template_in_plain_text_and_html(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    client = ContactFactory(name="Ольга Петрова", email="olga@example.com", language="ru")
    order = OrderFactory(pipeline=web_pipeline, client=client, title="Сайт пекарни")

    _move(order, rep, django_capture_on_commit_callbacks)

    [mail] = smtp_delivery.wait_for(1)
    assert mail.subject == "Ваш заказ WEB-00001: Ждём вашу анкету"
    assert mail.body.startswith("Здравствуйте, Ольга Петрова!")
    assert "перешёл на новый этап" in mail.body
    html = mail.message.get_body(preferencelist=("html",))
    assert html is not None
    assert "Здравствуйте, Ольга Петрова!" in html.get_content()
    assert mail.message["Reply-To"] is not None
    assert "+web-00001@" in str(mail.message["Reply-To"])
    assert mail.message["List-Unsubscribe"] is None, "a status update is transactional"


def test_an_sms_first_client_gets_the_message_at_the_sms_endpoint(
    smtp_delivery: SmtpServer,
    http_endpoint: HttpEndpoint,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms", "+X-To={phone}"))
    client = _client(channels=["sms", "email"], phone="+351 912 345 678", language="pt")
    order = OrderFactory(pipeline=web_pipeline, client=client)

    with time_machine.travel(datetime.datetime(2026, 11, 24, 10, 0, tzinfo=LISBON)):
        _move(order, rep, django_capture_on_commit_callbacks)

    [post] = http_endpoint.posts
    assert post.path == "/sms"
    assert post.headers["x-to"] == "+351912345678"
    assert (
        post.payload["message"]
        == "My agency: o seu pedido WEB-00001 está agora na fase «A aguardar o seu questionário»."
    )
    assert smtp_delivery.messages == []
    message = OutboxMessage.objects.get(order=order)
    assert (message.channel, message.recipient, message.status) == ("sms", "+351912345678", "sent")
    assert message.fallback_channels == ["email"]
    assert not order.events.filter(kind=OrderEvent.Kind.NOTIFICATION_FAILED).exists()


def test_an_opted_out_channel_is_skipped_for_the_next(
    smtp_delivery: SmtpServer,
    http_endpoint: HttpEndpoint,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms"))
    client = _client(channels=["sms", "email"], phone="+351912345678", opted_out_channels=["sms"])
    order = OrderFactory(pipeline=web_pipeline, client=client)

    with time_machine.travel(datetime.datetime(2026, 11, 24, 10, 0, tzinfo=LISBON)):
        _move(order, rep, django_capture_on_commit_callbacks)

    assert http_endpoint.posts == []
    [mail] = smtp_delivery.wait_for(1)
    assert mail.envelope_to == ["ana@example.com"]
    assert OutboxMessage.objects.get(order=order).channel == "email"


@pytest.mark.parametrize(
    ("status", "delay", "query", "error"),
    [
        pytest.param(500, 0.0, "", "Apprise:", id="http-500"),
        pytest.param(200, 2.0, "rto=0.5&cto=0.5", "Apprise:", id="timeout"),
    ],
)
def test_a_provider_error_or_timeout_keeps_the_message_with_the_error(
    http_endpoint: HttpEndpoint,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    status: int,
    delay: float,
    query: str,
    error: str,
) -> None:
    http_endpoint.status, http_endpoint.delay = status, delay
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms", query))
    client = _client(channels=["sms"], phone="+351912345678")
    order = OrderFactory(pipeline=web_pipeline, client=client)

    with time_machine.travel(datetime.datetime(2026, 11, 24, 10, 0, tzinfo=LISBON)):
        _move(order, rep, django_capture_on_commit_callbacks)

    message = OutboxMessage.objects.get(order=order)
    assert message.status == OutboxMessage.Status.QUEUED
    assert message.attempts == 1
    assert message.last_error.startswith(error)
    assert message.deliver_after > datetime.datetime(2026, 11, 24, 10, 0, tzinfo=LISBON)


def test_a_channel_that_keeps_failing_falls_back_to_the_next_and_staff_see_it(
    settings: Any,
    http_endpoint: HttpEndpoint,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    settings.MAILERS = smtp_mailers("127.0.0.1", unused_tcp_port())  # the e-mail server is down
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms"))
    client = _client(
        channels=["email", "sms"],
        phone="+351912345678",
        window_start=datetime.time(0),
        window_end=datetime.time(0),
    )
    order = OrderFactory(pipeline=web_pipeline, client=client)
    start = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    with time_machine.travel(start, tick=False):
        _move(order, rep, django_capture_on_commit_callbacks)
    for minutes in (1, 3, 7, 15):  # the backoff: 1, 2, 4, 8 minutes
        with time_machine.travel(start + datetime.timedelta(minutes=minutes, seconds=1), tick=False):
            assert _sweep(django_capture_on_commit_callbacks) == 1

    email = OutboxMessage.objects.get(order=order, channel="email")
    assert (email.status, email.attempts) == (OutboxMessage.Status.FAILED, services.MAX_ATTEMPTS)
    assert "ConnectionRefusedError" in email.last_error
    sms = OutboxMessage.objects.get(order=order, channel="sms")
    assert (sms.status, sms.fallback_of) == (OutboxMessage.Status.SENT, email)
    assert len(http_endpoint.posts) == 1
    failed = order.events.get(kind=OrderEvent.Kind.NOTIFICATION_FAILED)
    assert failed.data["channel"] == "email"
    assert list(selectors.messages_for_order(order)) == [sms, email]


def test_the_portal_inbox_gets_one_notification_and_counts_it_unread(
    web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client = _client(channels=["portal"])
    order = OrderFactory(pipeline=web_pipeline, client=client)
    with time_machine.travel(datetime.datetime(2026, 11, 24, 10, 0, tzinfo=LISBON)):
        _move(order, rep, django_capture_on_commit_callbacks)
        message = OutboxMessage.objects.get(order=order)
        services.deliver(message.pk, force=True)  # a second delivery adds nothing

    [item] = InboxNotification.objects.filter(contact=client)
    assert item.title == "Order WEB-00001"
    assert "is now at “Waiting for your questionnaire”" in item.body
    assert selectors.unread_count(client) == 1
    assert services.mark_inbox_read(client) == 1
    assert selectors.unread_count(client) == 0


def test_a_call_first_client_puts_a_call_with_its_script_on_the_owners_list(
    web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client = _client(channels=["call"], phone="+351912345678")
    order = OrderFactory(pipeline=web_pipeline, client=client, by=rep, title="Bakery website")
    with time_machine.travel(datetime.datetime(2026, 11, 24, 10, 0, tzinfo=LISBON)):
        _move(order, rep, django_capture_on_commit_callbacks)

    [task] = StaffTask.objects.filter(order=order)
    assert task.assignee == rep
    assert task.title == "Call Ana Client about order WEB-00001: Waiting for your questionnaire"
    assert "Tell Ana that order WEB-00001 (Bakery website)" in task.notes
    assert OutboxMessage.objects.get(order=order).status == OutboxMessage.Status.SENT


def test_a_call_without_an_owner_falls_back_to_email_at_once(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    client = _client(channels=["call", "email"], window_start=datetime.time(0), window_end=datetime.time(0))
    order = OrderFactory(pipeline=web_pipeline, client=client)  # created by a rule: no owner

    _move(order, rep, django_capture_on_commit_callbacks)

    call = OutboxMessage.objects.get(order=order, channel="call")
    assert (call.status, call.attempts) == (OutboxMessage.Status.FAILED, 1)
    assert "owner" in call.last_error
    smtp_delivery.wait_for(1)


def test_resending_a_sent_message_sends_a_copy_now(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    client = _client(window_start=datetime.time(0), window_end=datetime.time(0))
    order = OrderFactory(pipeline=web_pipeline, client=client)
    _move(order, rep, django_capture_on_commit_callbacks)
    sent = OutboxMessage.objects.get(order=order)

    with django_capture_on_commit_callbacks(execute=True):
        copy = services.resend_message(sent, by=rep)

    assert copy.idempotency_key == f"{sent.idempotency_key}:resend-1"
    assert len(smtp_delivery.wait_for(2)) == 2
    copy.refresh_from_db()
    assert copy.status == OutboxMessage.Status.SENT


def test_a_waiting_message_cannot_be_resent(web_pipeline: Pipeline, rep: User) -> None:
    message = services.queue_email(
        key="k",
        recipient="a@example.com",
        subject="S",
        body_text="B",
        language="en",
        deliver_after=datetime.datetime(2030, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(services.NotificationError, match="not been sent yet"):
        services.resend_message(message, by=rep)


def test_non_transactional_email_carries_one_click_unsubscribe(
    smtp_delivery: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client = _client(window_start=datetime.time(0), window_end=datetime.time(0))
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_email(
            key="offer:1",
            recipient=client.email,
            subject="Maintenance plan",
            body_text="…",
            language="en",
            contact=client,
            is_transactional=False,
        )
    [mail] = smtp_delivery.wait_for(1)
    assert "/messages/unsubscribe/" in str(mail.message["List-Unsubscribe"])
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_worker_that_died_while_sending_gives_the_message_back(
    settings: Any, smtp_delivery: SmtpServer
) -> None:
    message = services.queue_email(
        key="k", recipient="a@example.com", subject="S", body_text="B", language="en"
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.SENDING, claimed_at=datetime.datetime(2020, 1, 1, tzinfo=UTC)
    )

    assert services.deliver_due_messages() == 1

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.QUEUED
    assert "worker stopped" in message.last_error


def test_the_sweep_hands_out_bounded_batches_and_holds_back_while_workers_are_busy(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    later = timezone_now() + datetime.timedelta(minutes=1)
    for n in range(7):
        services.queue_email(
            key=f"b{n}",
            recipient="a@example.com",
            subject="S",
            body_text="B",
            language="en",
            deliver_after=later,
        )

    with time_machine.travel(later, tick=False):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert services.deliver_due_messages(limit=3, max_in_flight=5) == 3
            assert services.deliver_due_messages(limit=3, max_in_flight=5) == 2  # 3 already with workers
            assert services.deliver_due_messages(limit=3, max_in_flight=5) == 0
        assert len(callbacks) == 2
    assert OutboxMessage.objects.filter(dispatched_at__isnull=True).count() == 2
