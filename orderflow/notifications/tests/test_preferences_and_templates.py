"""Contact preferences and message templates: what is saved, and what is refused with a clear message."""

from __future__ import annotations

import datetime

import pytest

from orderflow.accounts.models import Contact
from orderflow.notifications import services
from orderflow.notifications.channels.apprise import check_apprise_url
from orderflow.notifications.models import AppriseEndpoint, MessageTemplate
from orderflow.notifications.preferences import PreferenceError, update_contact_preferences
from orderflow.notifications.rendering import TemplateProblem, check_template, render_source
from orderflow.pipelines.models import Pipeline
from tests.factories import ContactFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_preferences_are_saved_and_the_first_channel_becomes_the_preferred_one(
    client_contact: Contact,
) -> None:
    saved = update_contact_preferences(
        client_contact,
        by=None,
        channels=["sms", "email", "sms"],
        phone="+351 (91) 234-5678",
        window_start=datetime.time(9),
        window_end=datetime.time(21),
        days=[4, 0, 1],
        opted_out_channels=["call"],
        marketing_opt_out=True,
        time_zone="Europe/Moscow",
        language="ru",
    )
    saved.refresh_from_db()
    assert saved.channels == ["sms", "email"]
    assert saved.preferred_channel == "sms"
    assert saved.phone == "+351912345678"
    assert saved.delivery_days == [0, 1, 4]
    assert (saved.time_zone, saved.language, saved.marketing_opt_out) == ("Europe/Moscow", "ru", True)
    assert saved.channel_order == ["sms", "email"]


def test_a_contact_without_preferences_uses_the_preferred_channel_then_email() -> None:
    contact = ContactFactory(preferred_channel="call")
    assert contact.channel_order == ["call", "email"]


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"phone": "912 345"}, "phone", "international form"),
        ({"phone": "+0123456789"}, "phone", "international form"),
        ({"channels": ["sms"]}, "phone", "Add a phone number"),
        ({"channels": ["pigeon"]}, "channels", "Unknown channel"),
        ({"channels": ["email"], "opted_out_channels": ["email"]}, "channels", "at least one channel"),
        (
            {"window_start": datetime.time(21), "window_end": datetime.time(9)},
            "delivery_window_end",
            "after their start",
        ),
        ({"days": []}, "delivery_days", "at least one day"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a time zone"),
    ],
)
def test_bad_preferences_are_refused_and_nothing_changes(
    client_contact: Contact, arguments: dict[str, object], field: str, message: str
) -> None:
    values: dict[str, object] = {"channels": ["email"], **arguments}
    with pytest.raises(PreferenceError, match=message) as refused:
        update_contact_preferences(client_contact, by=None, **values)  # type: ignore[arg-type]
    assert refused.value.field == field
    client_contact.refresh_from_db()
    assert (client_contact.channels, client_contact.phone) == ([], "")


def test_an_unknown_placeholder_is_refused_when_the_template_is_saved() -> None:
    with pytest.raises(services.TemplateError, match=r"no placeholder \{\{ client.nmae \}\}") as refused:
        services.save_message_template(
            event="order.stage_changed",
            channel="sms",
            language="en",
            subject="Order",
            body="Hi {{ client.nmae }}",
            by=None,
        )
    assert refused.value.field == "body"
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{% load static %}{% static 'x' %}", "not a registered tag library"),
        ("{% now 'Y' %}", "placeholders and"),
        ("{% include 'base.html' %}", "placeholders and"),
        ("{{ client.name|safe }}", "filter “safe”"),
        ("{{ client.name.__class__ }}", "may not begin with underscores"),
        ("{{ client.email }}", "no placeholder"),
        ("{% if order.secret %}x{% endif %}", "no placeholder"),
        ("{% if client.name %}unclosed", "cannot be read"),
    ],
)
def test_templates_cannot_reach_beyond_their_placeholders(source: str, message: str) -> None:
    with pytest.raises(TemplateProblem, match=message):
        check_template(source)


def test_a_saved_template_replaces_the_default_for_its_language_only(
    web_pipeline: Pipeline, client_contact: Contact
) -> None:
    services.save_message_template(
        event="order.stage_changed",
        channel="email",
        language="en",
        subject="{{ order.number }} · {{ stage.label|upper }}",
        body="Dear {{ client.first_name }}…",
        by=None,
    )
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    english = services.notify_contact(
        client_contact, template_event="order.stage_changed", key="t1", order=order, stage=order.stage
    )
    assert english is not None
    assert (english.subject, english.body_text) == (
        f"{order.reference} · {order.stage.label_for_client.upper()}",
        "Dear Ana…\n",
    )
    russian = ContactFactory(language="ru")
    other = services.notify_contact(
        russian, template_event="order.stage_changed", key="t2", order=order, stage=order.stage
    )
    assert other is not None
    assert other.subject.startswith("Ваш заказ")


def test_rendering_escapes_html_only_for_the_html_part() -> None:
    values = {"client.name": "<b>Ana</b>"}
    assert render_source("Hi {{ client.name }}", values) == "Hi <b>Ana</b>"
    assert render_source("Hi {{ client.name }}", values, autoescape=True) == "Hi &lt;b&gt;Ana&lt;/b&gt;"


def test_upsell_text_is_left_out_for_a_client_who_refused_offers(web_pipeline: Pipeline) -> None:
    from orderflow.notifications.rendering import placeholder_values

    contact = ContactFactory(marketing_opt_out=True)
    order = OrderFactory(pipeline=web_pipeline, client=contact)
    values = placeholder_values(
        contact=contact, order=order, stage=None, language="en", upsell="Add hosting!"
    )
    assert values["upsell"] == ""


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:8000/sms",
        "twilio://AC123:token@+15550001111/{phone}",
        "tgram://123456:ABCdef/{messenger}",
    ],
)
def test_apprise_urls_that_apprise_understands_are_accepted(url: str) -> None:
    check_apprise_url(url)


@pytest.mark.parametrize("url", ["", "nonsense://foo", "https//missing-colon"])
def test_apprise_urls_that_apprise_does_not_understand_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Apprise does not understand"):
        check_apprise_url(url)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        AppriseEndpoint(channel="sms", url=url).full_clean()
