"""A provider that keeps failing never loses the message: without a fallback channel it stays in the
outbox with its error, retried hourly, until it is sent or a person gives up; staff see it failing
and can retry now. The far end is a real local HTTP server reached through Apprise's json:// URL."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.notifications import selectors, services
from orderflow.notifications.models import AppriseEndpoint, OutboxMessage
from orderflow.notifications.preferences import update_contact_preferences
from orderflow.notifications.tests.conftest import HttpEndpoint
from orderflow.pipelines.models import OrderEvent, Pipeline
from tests.factories import ContactFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]
UTC = datetime.UTC
START = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _sms_client() -> Contact:
    contact = ContactFactory(name="Ana Client", email="", time_zone="UTC")
    return update_contact_preferences(contact, by=None, channels=["sms"], phone="+351912345678")


def _failing_sms(
    http_endpoint: HttpEndpoint, web_pipeline: Pipeline, capture: CaptureOnCommit
) -> OutboxMessage:
    """An SMS that the endpoint refused seven times (HTTP 500), the last try at START + 2 h."""
    http_endpoint.status = 500
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms"))
    order = OrderFactory(pipeline=web_pipeline, client=_sms_client())
    with time_machine.travel(START, tick=False), capture(execute=True):
        message = services.notify_contact(
            order.client, template_event="order.stage_changed", key="k", order=order, stage=order.stage
        )
    assert message is not None
    message.refresh_from_db()
    while message.attempts < 7:
        with time_machine.travel(message.deliver_after, tick=False), capture(execute=True):
            services.deliver_due_messages()
        message.refresh_from_db()
    return message


def test_an_sms_the_provider_keeps_refusing_is_retried_hourly_and_never_failed_on_its_own(
    http_endpoint: HttpEndpoint, web_pipeline: Pipeline, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    message = _failing_sms(http_endpoint, web_pipeline, django_capture_on_commit_callbacks)

    assert message.status == OutboxMessage.Status.QUEUED, "more than MAX_ATTEMPTS, still in the outbox"
    assert message.is_failing
    assert message.last_error.startswith("Apprise:")
    assert len(http_endpoint.posts) == 7
    # 1, 2, 4, 8, 16, 32 minutes, then an hour: the backoff is capped.
    assert message.deliver_after - START == datetime.timedelta(minutes=63 + 60)
    assert message.order is not None
    assert not message.order.events.filter(kind=OrderEvent.Kind.NOTIFICATION_FAILED).exists()
    assert list(selectors.delivery_log(status=selectors.FAILING)) == [message]


def test_when_the_provider_recovers_the_next_try_sends_it(
    http_endpoint: HttpEndpoint, web_pipeline: Pipeline, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    message = _failing_sms(http_endpoint, web_pipeline, django_capture_on_commit_callbacks)
    http_endpoint.status = 200

    with (
        time_machine.travel(message.deliver_after, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.deliver_due_messages() == 1

    message.refresh_from_db()
    assert (message.status, message.last_error, message.attempts) == ("sent", "", 8)
    assert http_endpoint.posts[-1].payload["message"].startswith("My agency: your order WEB-00001")


def test_staff_retry_a_failing_message_now_from_the_log(
    client: Client,
    rep: User,
    http_endpoint: HttpEndpoint,
    web_pipeline: Pipeline,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    message = _failing_sms(http_endpoint, web_pipeline, django_capture_on_commit_callbacks)
    client.force_login(rep)
    log = client.get(reverse("notifications:log"), {"status": "failing"}).content.decode()
    assert "Failing" in log
    assert "Retry now" in log
    assert "Give up" in log
    http_endpoint.status = 200

    with (
        time_machine.travel(START + datetime.timedelta(hours=2, minutes=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("notifications:message-retry", args=[message.pk]))

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(http_endpoint.posts) == 8


def test_staff_give_up_on_a_failing_message_and_it_is_tried_no_more(
    client: Client,
    rep: User,
    http_endpoint: HttpEndpoint,
    web_pipeline: Pipeline,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    message = _failing_sms(http_endpoint, web_pipeline, django_capture_on_commit_callbacks)
    client.force_login(rep)

    client.post(reverse("notifications:message-give-up", args=[message.pk]))

    message.refresh_from_db()
    assert (message.status, message.given_up_by) == (OutboxMessage.Status.FAILED, rep)
    assert message.last_error.startswith("Apprise:"), "the provider's error stays for staff to read"
    assert message.order is not None
    event = message.order.events.get(kind=OrderEvent.Kind.NOTIFICATION_FAILED)
    assert event.actor == rep
    with time_machine.travel(START + datetime.timedelta(days=2), tick=False):
        assert services.deliver_due_messages() == 0
    assert len(http_endpoint.posts) == 7


def test_retry_and_give_up_are_refused_for_a_message_already_sent(
    rep: User, web_pipeline: Pipeline, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = services.queue_email(
            key="k", recipient="a@example.com", subject="S", body_text="B", language="en"
        )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT

    with pytest.raises(services.NotificationError, match="no longer waiting"):
        services.retry_message_now(message, by=rep)
    with pytest.raises(services.NotificationError, match="no longer waiting"):
        services.give_up_message(message, by=rep)


def test_someone_without_the_outbox_permission_cannot_retry_or_give_up(
    client: Client,
    http_endpoint: HttpEndpoint,
    web_pipeline: Pipeline,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    message = _failing_sms(http_endpoint, web_pipeline, django_capture_on_commit_callbacks)
    client.force_login(UserFactory(role=Role.CLIENT))

    for name in ("notifications:message-retry", "notifications:message-give-up"):
        assert client.post(reverse(name, args=[message.pk])).status_code == 403

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.QUEUED, 7)
