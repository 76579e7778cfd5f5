"""Staff pages of notifications: the delivery log and resend, preferences, templates, and unsubscribe."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.notifications import services
from orderflow.notifications.channels.email import unsubscribe_url
from orderflow.notifications.models import MessageTemplate, OutboxMessage
from orderflow.pipelines.models import Pipeline
from tests.factories import ContactFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]


@pytest.fixture
def rep_client(client: Client, rep: User) -> Client:
    client.force_login(rep)
    return client


@pytest.fixture
def admin_client_(client: Client) -> Client:
    client.force_login(UserFactory(role=Role.ADMIN))
    return client


def _messages(count: int, web_pipeline: Pipeline) -> None:
    for n in range(count):
        order = OrderFactory(pipeline=web_pipeline)
        message = services.queue_email(
            key=f"m{n}",
            recipient=f"c{n}@example.com",
            subject=f"Subject {n}",
            body_text="…",
            language="en",
            contact=order.client,
            order_id=order.pk,
            deliver_after=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC) if n % 2 else None,
        )
        if n % 3 == 0:
            OutboxMessage.objects.filter(pk=message.pk).update(status="failed", last_error="SMTP said no")


@pytest.mark.parametrize("count", [1, 30])
def test_the_log_shows_every_state_with_a_fixed_number_of_queries(
    rep_client: Client, web_pipeline: Pipeline, django_assert_max_num_queries: Any, count: int
) -> None:
    _messages(count, web_pipeline)
    with django_assert_max_num_queries(8):
        response = rep_client.get(reverse("notifications:log"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Subject 0" in body
    assert "SMTP said no" in body
    if count > 1:
        assert "Waiting" in body


def test_the_log_filters_by_status_for_htmx(rep_client: Client, web_pipeline: Pipeline) -> None:
    _messages(4, web_pipeline)
    response = rep_client.get(reverse("notifications:log"), {"status": "failed"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert "Subject 0" in body
    assert "Subject 1" not in body


def test_a_client_may_not_see_the_log(client: Client) -> None:
    client.force_login(UserFactory(role=Role.CLIENT))
    assert client.get(reverse("notifications:log")).status_code == 403


def test_staff_resend_a_failed_message(
    rep_client: Client, web_pipeline: Pipeline, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    _messages(1, web_pipeline)
    failed = OutboxMessage.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        response = rep_client.post(
            reverse("notifications:message-resend", args=[failed.pk]), {"next": "//evil.example"}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:log")
    assert OutboxMessage.objects.filter(idempotency_key="m0:resend-1", is_urgent=True).exists()


def test_preferences_page_saves_and_shows_refusals_next_to_the_field(
    rep_client: Client, client_contact: Contact
) -> None:
    url = reverse("notifications:contact-preferences", args=[client_contact.pk])
    assert rep_client.get(url).status_code == 200
    form = {
        "first_channel": "sms",
        "second_channel": "email",
        "third_channel": "",
        "phone": "12",
        "window_start": "09:00",
        "window_end": "21:00",
        "days": ["0", "1"],
        "time_zone": "Europe/Lisbon",
        "language": "pt",
    }
    refused = rep_client.post(url, form)
    assert refused.status_code == 422
    assert "international form" in refused.content.decode()

    saved = rep_client.post(url, {**form, "phone": "+351912345678", "opted_out_channels": ["call"]})
    assert saved.status_code == 302
    client_contact.refresh_from_db()
    assert client_contact.channels == ["sms", "email"]
    assert client_contact.opted_out_channels == ["call"]
    assert client_contact.delivery_window_start == datetime.time(9)


def test_template_pages_are_for_admins(rep_client: Client) -> None:
    assert rep_client.get(reverse("notifications:template-list")).status_code == 403


def test_an_admin_previews_with_a_real_order_and_saves_a_template(
    admin_client_: Client, web_pipeline: Pipeline
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=ContactFactory(name="Bea Bakery"))
    assert admin_client_.get(reverse("notifications:template-list")).status_code == 200
    url = reverse("notifications:template-edit", args=["order.stage_changed", "email", "en"])
    page = admin_client_.get(url)
    assert "Your order {{ order.number }}" in page.content.decode()

    preview = admin_client_.post(
        url,
        {
            "subject": "Hi {{ client.name }}",
            "body": "Order {{ order.number }}",
            "preview_order": order.pk,
            "preview": "1",
        },
        HTTP_HX_REQUEST="true",
    )
    assert preview.status_code == 200
    assert "Hi Bea Bakery" in preview.content.decode()
    assert order.reference in preview.content.decode()

    refused = admin_client_.post(url, {"subject": "x", "body": "{{ order.total }}"})
    assert refused.status_code == 422
    assert "There is no placeholder {{ order.total }}" in refused.content.decode()
    assert not MessageTemplate.objects.exists()

    saved = admin_client_.post(url, {"subject": "x", "body": "{{ order.number }}"})
    assert saved.status_code == 302
    assert MessageTemplate.objects.get().body == "{{ order.number }}"


def test_an_unknown_template_address_is_not_found(admin_client_: Client) -> None:
    url = reverse("notifications:template-edit", args=["order.exploded", "email", "en"])
    assert admin_client_.get(url).status_code == 404


def test_the_client_unsubscribes_from_offers_with_the_signed_link(
    client: Client, client_contact: Contact
) -> None:
    url = unsubscribe_url(client_contact.pk).removeprefix("http://127.0.0.1:8000")
    assert "Stop offers" in client.get(url).content.decode()
    assert client.post(url).status_code == 200
    client_contact.refresh_from_db()
    assert client_contact.marketing_opt_out is True


def test_the_unsubscribe_page_speaks_the_clients_language_and_offers_the_message_settings(
    client: Client,
) -> None:
    olga = ContactFactory(name="Olga", language="ru")
    url = unsubscribe_url(olga.pk).removeprefix("http://127.0.0.1:8000")
    # Her browser asks for English; the e-mail that brought her here was in Russian.
    for response in (client.get(url, HTTP_ACCEPT_LANGUAGE="en"), client.post(url, HTTP_ACCEPT_LANGUAGE="en")):
        page = response.content.decode()
        assert '<html lang="ru">' in page
        assert "Stop offers" not in page
        assert "You are unsubscribed" not in page
        settings_link = response.context["settings_url"]
        assert client.get(settings_link).status_code == 200
        assert f'href="{settings_link}"' in page


def test_a_tampered_unsubscribe_link_changes_nothing(client: Client, client_contact: Contact) -> None:
    url = unsubscribe_url(client_contact.pk).removeprefix("http://127.0.0.1:8000")
    response = client.post(url[:-3] + "xx/")
    assert response.status_code == 404
    client_contact.refresh_from_db()
    assert client_contact.marketing_opt_out is False
