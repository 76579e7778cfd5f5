"""The client hears about a stage change by e-mail, delivered over real SMTP, once, in their language."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from orderflow.accounts.models import Contact, User
from orderflow.notifications import services
from orderflow.notifications.models import OutboxMessage
from orderflow.notifications.services import notify_client_of_stage_change
from orderflow.notifications.tasks import deliver_message
from orderflow.pipelines.models import Order, OrderEvent, Pipeline
from orderflow.pipelines.services import move_order
from tests.factories import ContactFactory, OrderFactory
from tests.fixtures.smtp import SmtpServer, smtp_mailers, unused_tcp_port

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]


def _move_to_questionnaire_sent(order: Order, rep: User, capture: CaptureOnCommit) -> OrderEvent:
    """Move as a view would, then run what happens after commit (eager Celery tasks in this process)."""
    with capture(execute=True):
        return move_order(order, order.pipeline.stages.get(key="questionnaire-sent"), by=rep)


def test_moving_an_order_emails_the_client_over_smtp(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, title="Bakery website")

    _move_to_questionnaire_sent(order, rep, django_capture_on_commit_callbacks)

    [mail] = smtp_delivery.wait_for(1)
    assert mail.envelope_to == ["ana@example.com"]
    assert mail.subject == "Your order WEB-00001: Waiting for your questionnaire"
    assert "Hello Ana Client," in mail.body
    assert "Bakery website" in mail.body
    outbox = OutboxMessage.objects.get(order=order)
    assert (outbox.status, outbox.attempts, outbox.last_error) == (OutboxMessage.Status.SENT, 1, "")
    assert outbox.sent_at is not None


def test_delivering_the_same_message_again_sends_nothing_more(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    _move_to_questionnaire_sent(order, rep, django_capture_on_commit_callbacks)
    smtp_delivery.wait_for(1)
    outbox = OutboxMessage.objects.get(order=order)

    result = deliver_message.delay(outbox.pk).get()

    assert result == OutboxMessage.Status.SENT
    outbox.refresh_from_db()
    assert outbox.attempts == 1
    assert len(smtp_delivery.messages) == 1


def test_handling_the_same_event_twice_queues_one_message(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    event = _move_to_questionnaire_sent(order, rep, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        notify_client_of_stage_change(event)

    assert OutboxMessage.objects.filter(order=order).count() == 1
    assert len(smtp_delivery.messages) == 1


def test_a_message_that_cannot_be_delivered_stays_queued_with_the_error(
    settings: Any, web_pipeline: Pipeline, rep: User, client_contact: Contact
) -> None:
    settings.MAILERS = smtp_mailers("127.0.0.1", unused_tcp_port())  # nothing listens there
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    event = move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=rep)
    queued = notify_client_of_stage_change(event)
    assert queued is not None

    before = timezone.now()
    services.deliver(queued.pk)

    queued.refresh_from_db()
    assert queued.status == OutboxMessage.Status.QUEUED
    assert queued.attempts == 1
    assert "ConnectionRefusedError" in queued.last_error
    assert queued.sent_at is None
    assert queued.deliver_after >= before + datetime.timedelta(seconds=60), "retried later, with backoff"


def test_a_queued_message_is_delivered_once_the_smtp_server_is_back(
    settings: Any,
    smtp_server: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    settings.MAILERS = smtp_mailers("127.0.0.1", unused_tcp_port())
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    queued = notify_client_of_stage_change(
        move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=rep)
    )
    assert queued is not None
    services.deliver(queued.pk)

    settings.MAILERS = smtp_mailers(smtp_server.host, smtp_server.port)
    assert services.deliver(queued.pk).status == OutboxMessage.Status.QUEUED, "not due again yet"
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.deliver_due_messages() == 1

    queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.last_error) == (OutboxMessage.Status.SENT, 2, "")
    [mail] = smtp_server.wait_for(1)
    assert mail.envelope_to == ["ana@example.com"]


def test_a_client_who_is_not_told_about_a_stage_gets_no_email(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    client_contact: Contact,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    quiet_stage = web_pipeline.stages.get(key="questionnaire-sent")
    quiet_stage.notify_client = False
    quiet_stage.save(update_fields=["notify_client"])
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)

    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, quiet_stage, by=rep)

    assert not OutboxMessage.objects.filter(order=order).exists()
    assert smtp_delivery.messages == []


@pytest.mark.parametrize(
    ("language", "subject", "greeting"),
    [
        ("ru", "Ваш заказ WEB-00001: Ждём вашу анкету", "Ваш заказ WEB-00001"),
        ("pt", "O seu pedido WEB-00001: A aguardar o seu questionário", "O seu pedido WEB-00001"),
    ],
)
def test_the_client_gets_the_email_in_their_own_language(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    language: str,
    subject: str,
    greeting: str,
) -> None:
    client = ContactFactory(name="Olga", email="olga@example.com", language=language)
    order = OrderFactory(pipeline=web_pipeline, client=client)

    _move_to_questionnaire_sent(order, rep, django_capture_on_commit_callbacks)

    [mail] = smtp_delivery.wait_for(1)
    assert mail.subject == subject
    assert greeting in mail.body
    assert "Your order" not in mail.body
    assert OutboxMessage.objects.get(order=order).language == language
