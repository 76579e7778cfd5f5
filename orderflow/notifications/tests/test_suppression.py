"""Refusals are enforced: an unsubscribed client gets no offers or feedback requests, a refused channel
is never used, whether the message is queued after the refusal or was waiting when it came. Such a
message ends visibly `suppressed` with its reason, never silently dropped."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import Contact, User
from orderflow.notifications import services
from orderflow.notifications.channels.email import unsubscribe_url
from orderflow.notifications.models import AppriseEndpoint, OutboxMessage, UnsubscribedAddress
from orderflow.notifications.preferences import unsubscribe_from_offers, update_contact_preferences
from orderflow.notifications.tests.conftest import HttpEndpoint
from orderflow.pipelines.models import Pipeline
from tests.factories import ContactFactory, OrderFactory
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]
UTC = datetime.UTC


def _client(**preferences: Any) -> Contact:
    contact = ContactFactory(name="Ana Client", email="Ana@Example.com", time_zone="Europe/Lisbon")
    arguments: dict[str, Any] = {"channels": ["email"]}
    return update_contact_preferences(contact, by=None, **{**arguments, **preferences})


def _offer(
    contact: Contact | None, *, key: str = "offer:1", recipient: str = "ana@example.com", **extra: Any
) -> OutboxMessage:
    return services.queue_email(
        key=key,
        recipient=recipient,
        subject="Our maintenance plan",
        body_text="…",
        language="en",
        contact=contact,
        is_transactional=False,
        **extra,
    )


def test_an_offer_to_a_client_who_refused_offers_is_suppressed_when_queued(
    smtp_delivery: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client = _client(marketing_opt_out=True)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = _offer(client)

    assert (message.status, message.reason) == (OutboxMessage.Status.SUPPRESSED, "offers_refused")
    assert callbacks == [], "nothing is handed to a worker"
    assert smtp_delivery.messages == []
    assert services.deliver_due_messages() == 0


def test_an_offer_queued_before_the_unsubscribe_is_not_sent_when_it_falls_due(
    smtp_delivery: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client = _client()
    tomorrow = datetime.datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
    message = _offer(client, deliver_after=tomorrow)
    assert message.status == OutboxMessage.Status.QUEUED

    unsubscribe_from_offers(client.pk)  # the client clicks the link in yesterday's e-mail
    with time_machine.travel(tomorrow, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.deliver_due_messages() == 1

    message.refresh_from_db()
    assert (message.status, message.reason) == (OutboxMessage.Status.SUPPRESSED, "offers_refused")
    assert message.sent_at is None
    assert smtp_delivery.messages == []


def test_an_unsubscribed_address_holds_back_offers_queued_to_the_address_alone(
    smtp_delivery: SmtpServer, client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    ana = _client()
    client.post(unsubscribe_url(ana.pk).removeprefix("http://testserver"))
    assert UnsubscribedAddress.objects.filter(email="ana@example.com").exists()

    with django_capture_on_commit_callbacks(execute=True):
        no_contact = _offer(None, key="offer:2", recipient="ANA@example.com")
        receipt = services.queue_email(
            key="receipt:1", recipient="ana@example.com", subject="Receipt", body_text="…", language="en"
        )

    assert (no_contact.status, no_contact.reason) == ("suppressed", "address_unsubscribed")
    [mail] = smtp_delivery.wait_for(1)
    assert mail.subject == "Receipt", "transactional mail still goes"
    receipt.refresh_from_db()
    assert receipt.status == OutboxMessage.Status.SENT


def test_staff_allowing_offers_again_lifts_the_address_unsubscribe(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    client = _client()
    unsubscribe_from_offers(client.pk)

    update_contact_preferences(client, by=None, channels=["email"], marketing_opt_out=False)

    assert not UnsubscribedAddress.objects.exists()
    assert _offer(client).status == OutboxMessage.Status.QUEUED


@pytest.mark.parametrize("path", ["queue_email", "queue_message"])
def test_a_refused_channel_is_never_used_by_any_queueing_path(
    smtp_delivery: SmtpServer, django_capture_on_commit_callbacks: CaptureOnCommit, path: str
) -> None:
    client = _client(channels=["portal", "email"], opted_out_channels=["email"])
    arguments: dict[str, Any] = {
        "key": "receipt:1",
        "recipient": "ana@example.com",
        "subject": "Receipt",
        "body_text": "…",
        "language": "en",
        "contact": client,
    }
    if path == "queue_message":
        arguments["channel"] = "email"

    with django_capture_on_commit_callbacks(execute=True):
        message = getattr(services, path)(**arguments)

    assert (message.status, message.reason) == (OutboxMessage.Status.SUPPRESSED, "channel_refused")
    assert smtp_delivery.messages == []


def test_a_channel_refused_while_the_message_waited_passes_it_to_the_next_channel(
    smtp_delivery: SmtpServer,
    http_endpoint: HttpEndpoint,
    web_pipeline: Pipeline,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms"))
    client = _client(channels=["email", "sms"], phone="+351912345678")
    order = OrderFactory(pipeline=web_pipeline, client=client)
    evening = datetime.datetime(2030, 1, 1, 22, 30, tzinfo=UTC)
    with time_machine.travel(evening, tick=False):
        update_contact_preferences(
            client,
            by=None,
            channels=["email", "sms"],
            phone="+351912345678",
            window_start=datetime.time(9),
            window_end=datetime.time(21),
        )
        client.refresh_from_db()
        email = services.notify_contact(
            client, template_event="order.stage_changed", key="k", order=order, stage=order.stage
        )
    assert email is not None
    assert email.channel == "email"
    update_contact_preferences(
        client, by=None, channels=["sms", "email"], phone="+351912345678", opted_out_channels=["email"]
    )

    with (
        time_machine.travel(email.deliver_after, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.deliver_due_messages()

    email.refresh_from_db()
    assert (email.status, email.reason) == ("suppressed", "channel_refused")
    sms = OutboxMessage.objects.get(fallback_of=email)
    assert (sms.channel, sms.status) == ("sms", "sent")
    assert len(http_endpoint.posts) == 1
    assert smtp_delivery.messages == []


def test_the_log_shows_a_suppressed_message_with_its_reason(
    client: Client, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    _offer(_client(marketing_opt_out=True))
    client.force_login(rep)

    page = client.get(reverse("notifications:log"), {"status": "suppressed"}).content.decode()

    assert "Not sent" in page
    assert "The client does not want offers or feedback requests." in page
    assert "Our maintenance plan" in page
