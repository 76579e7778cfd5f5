"""Links in messages (the booking link of a stage change, links passed by the caller, kept on a
fallback) and the staff-written offer (upsell), left out for clients who unsubscribed; and "Send
again" on the order card."""

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
from orderflow.notifications.defaults import default_template
from orderflow.notifications.models import MessageTemplate, OutboxMessage
from orderflow.notifications.preferences import unsubscribe_from_offers, update_contact_preferences
from orderflow.pipelines.models import Pipeline
from orderflow.pipelines.services import move_order
from orderflow.scheduling.models import BookingType
from orderflow.scheduling.services import add_weekly_hours, invite_to_book
from tests.factories import ContactFactory, OrderFactory, UserFactory
from tests.fixtures.smtp import SmtpServer, smtp_mailers, unused_tcp_port

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]
OFFER = "Ask us about our maintenance plan for {{ client.first_name }}: 9 € a month."


def _client(**preferences: Any) -> Contact:
    contact = ContactFactory(name="Ana Client", email="ana@example.com")
    return update_contact_preferences(contact, by=None, **{"channels": ["email"], **preferences})


def _own_wording_with_offer(admin: User) -> None:
    subject, body = default_template("order.stage_changed", "email", "en")
    services.save_message_template(
        event="order.stage_changed",
        channel="email",
        language="en",
        subject=subject,
        body=body,
        upsell=OFFER,
        by=admin,
    )


def test_a_stage_change_carries_the_orders_open_booking_link(
    settings: Any, web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    settings.BASE_URL = "https://orders.example"
    add_weekly_hours(rep, weekday=0, starts=datetime.time(9), ends=datetime.time(17))
    order = OrderFactory(pipeline=web_pipeline, client=_client(), by=rep)
    _invitation, token = invite_to_book(order, BookingType.objects.create(name="Review call"), by=rep)

    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, web_pipeline.stages.get(key="questionnaire-received"), by=rep)

    message = OutboxMessage.objects.get(order=order, template_event="order.stage_changed")
    link = f"https://orders.example/book/{token}/"
    assert message.links == {"booking": link}
    assert f"Please pick a time for our call here: {link}" in message.body_text


def test_the_html_email_makes_a_link_a_short_clickable_text_that_fits_a_phone(
    settings: Any, web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    settings.BASE_URL = "https://orders.example"
    add_weekly_hours(rep, weekday=0, starts=datetime.time(9), ends=datetime.time(17))
    order = OrderFactory(pipeline=web_pipeline, client=_client(), by=rep)
    _invitation, token = invite_to_book(order, BookingType.objects.create(name="Review call"), by=rep)

    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, web_pipeline.stages.get(key="questionnaire-received"), by=rep)

    html = OutboxMessage.objects.get(order=order, template_event="order.stage_changed").body_html
    link = f"https://orders.example/book/{token}/"
    # A 43-character token printed whole made the message wider than a 390 px screen, and unclickable.
    assert f'<a href="{link}"' in html
    assert f">{link}<" not in html
    assert "overflow-wrap:anywhere" in html


def test_without_an_open_booking_link_the_sentence_drops_out(
    web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=_client(), by=rep)
    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, web_pipeline.stages.get(key="questionnaire-received"), by=rep)

    message = OutboxMessage.objects.get(order=order)
    assert message.links == {}
    assert "pick a time" not in message.body_text
    assert "{{" not in message.body_text


def test_links_passed_by_the_caller_stay_with_the_message_on_a_fallback_channel(
    settings: Any, web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    settings.MAILERS = smtp_mailers("127.0.0.1", unused_tcp_port())  # e-mail is down: falls back
    client = _client(channels=["email", "portal"])
    order = OrderFactory(pipeline=web_pipeline, client=client, by=rep)
    admin = UserFactory(role=Role.ADMIN)
    services.save_message_template(
        event="order.stage_changed",
        channel="portal",
        language="en",
        subject="Order {{ order.number }}",
        body="Please answer our questions: {{ links.request }}",
        by=admin,
    )
    with django_capture_on_commit_callbacks(execute=True):
        email = services.notify_contact(
            client,
            template_event="order.stage_changed",
            key="request:5",
            order=order,
            stage=order.stage,
            links={"request": "https://orders.example/r/secret/"},
        )
    assert email is not None

    for _attempt in range(services.MAX_ATTEMPTS):
        services.deliver(email.pk, force=True)

    inbox = OutboxMessage.objects.get(fallback_of=email)
    assert inbox.channel == "portal"
    assert inbox.links == {"request": "https://orders.example/r/secret/"}
    assert inbox.body_text.strip() == "Please answer our questions: https://orders.example/r/secret/"


def test_staff_write_an_offer_that_clients_who_accept_offers_receive(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    _own_wording_with_offer(UserFactory(role=Role.ADMIN))
    order = OrderFactory(pipeline=web_pipeline, client=_client(), by=rep)

    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=rep)

    [mail] = smtp_delivery.wait_for(1)
    assert "Ask us about our maintenance plan for Ana: 9 € a month." in mail.body


@pytest.mark.parametrize("refusal", ["marketing_opt_out", "unsubscribed_address"])
def test_the_offer_is_left_out_for_a_client_who_unsubscribed(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    refusal: str,
) -> None:
    _own_wording_with_offer(UserFactory(role=Role.ADMIN))
    client = _client()
    if refusal == "marketing_opt_out":
        unsubscribe_from_offers(client.pk)
    else:  # the address unsubscribed through another contact's link
        unsubscribe_from_offers(ContactFactory(email="ana@example.com").pk)
    order = OrderFactory(pipeline=web_pipeline, client=client, by=rep)

    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=rep)

    [mail] = smtp_delivery.wait_for(1)
    assert "Hello Ana Client," in mail.body, "the status update itself still goes"
    assert "maintenance plan" not in mail.body


def test_an_offer_with_an_unknown_placeholder_is_refused_when_saved(client: Client) -> None:
    client.force_login(UserFactory(role=Role.ADMIN))
    url = reverse("notifications:template-edit", args=["order.stage_changed", "email", "en"])

    response = client.post(
        url, {"subject": "S", "body": "B {{ upsell }}", "upsell": "{{ client.phone }}", "save": ""}
    )

    assert response.status_code == 422
    assert "There is no placeholder {{ client.phone }}" in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_the_template_page_saves_and_previews_the_offer(client: Client, web_pipeline: Pipeline) -> None:
    client.force_login(UserFactory(role=Role.ADMIN))
    OrderFactory(pipeline=web_pipeline, client=_client())
    url = reverse("notifications:template-edit", args=["order.stage_changed", "email", "en"])
    data = {
        "subject": "Update",
        "body": "Hi {{ client.first_name }}.\n{% if upsell %}{{ upsell }}{% endif %}",
        "upsell": OFFER,
    }

    preview = client.post(url, {**data, "preview": ""}).content.decode()
    client.post(url, {**data, "save": ""})

    assert "Ask us about our maintenance plan for Ana: 9 € a month." in preview
    assert MessageTemplate.objects.get().upsell == OFFER


def test_send_again_from_the_order_card(
    smtp_delivery: SmtpServer,
    client: Client,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=_client(), by=rep)
    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=rep)
    sent = OutboxMessage.objects.get(order=order)
    card_url = reverse("backoffice:order-detail", args=[order.pk])
    client.force_login(rep)

    card = client.get(card_url).content.decode()
    assert reverse("notifications:message-resend", args=[sent.pk]) in card
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:message-resend", args=[sent.pk]), {"next": card_url})

    assert response.status_code == 302
    assert response["Location"] == card_url
    assert len(smtp_delivery.wait_for(2)) == 2
    assert OutboxMessage.objects.filter(order=order).count() == 2


def test_a_client_user_cannot_send_again_and_sees_no_button(
    client: Client, web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=_client(), by=rep)
    with django_capture_on_commit_callbacks(execute=True):
        move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=rep)
    sent = OutboxMessage.objects.get(order=order)
    client.force_login(UserFactory(role=Role.CLIENT))

    response = client.post(reverse("notifications:message-resend", args=[sent.pk]))

    assert response.status_code == 403
    assert OutboxMessage.objects.filter(order=order).count() == 1
    assert client.get(reverse("backoffice:order-detail", args=[order.pk])).status_code == 403
