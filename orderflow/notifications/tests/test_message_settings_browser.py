"""In the browser, on a phone: a Russian client opens "Your message settings" from the foot of our
e-mail, puts SMS first, is refused hours across midnight, saves her evening hours, and the next
message waits for them; staff then see that the client made the change. A client who never chose a
time zone gets the phone's (screenshots)."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Any

import pytest
import time_machine

from orderflow.accounts.roles import Role
from orderflow.notifications import services
from orderflow.notifications.models import AppriseEndpoint
from orderflow.notifications.tests.conftest import HttpEndpoint
from tests.factories import TEST_PASSWORD, ContactFactory, OrderFactory, PipelineFactory, UserFactory
from tests.fixtures.smtp import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


def test_a_russian_client_puts_sms_first_and_the_next_message_waits_for_her_hours(
    live_server: Any,
    page: Any,
    screenshot: Any,
    settings: Any,
    smtp_delivery: SmtpServer,
    http_endpoint: HttpEndpoint,
) -> None:
    settings.BASE_URL = live_server.url
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms"))
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    olga = ContactFactory(
        name="Ольга Петрова",
        email="olga@example.com",
        phone="+79123456789",
        language="ru",
        time_zone="Europe/Moscow",
    )
    order = OrderFactory(pipeline=PipelineFactory(), client=olga, by=admin, title="Сайт пекарни")
    # The e-mail she got (sent now over real SMTP, not a link made up by the test).
    services.queue_email(
        key="hello",
        recipient=olga.email,
        subject="Ваш заказ",
        body_text="Здравствуйте!",
        language="ru",
        contact=olga,
    )
    [mail] = smtp_delivery.wait_for(1)
    found = re.search(r"\S+/messages/settings/\S+/", mail.body)
    assert found is not None, mail.body
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(found.group(0))
    page.get_by_role("heading", name="Ваши настройки сообщений").wait_for()
    assert page.locator("html").get_attribute("lang") == "ru"
    screenshot(page, "message-settings-ru")
    page.get_by_label("Сначала пробовать").select_option("sms")
    page.get_by_label("Если так не получится связаться").select_option("email")
    page.get_by_label("Только в определённые часы").check()
    page.locator("#id_window_start").fill("21:00")
    page.locator("#id_window_end").fill("09:00")
    page.get_by_role("button", name="Сохранить настройки").click()
    page.get_by_text("Время через полночь задать нельзя").wait_for()
    screenshot(page, "message-settings-refused-ru")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling on a phone"
    olga.refresh_from_db()
    assert (olga.channels, olga.delivery_window_start) == ([], datetime.time(0)), "nothing saved"

    page.locator("#id_window_start").fill("10:00")
    page.locator("#id_window_end").fill("19:00")
    page.get_by_role("button", name="Сохранить настройки").click()
    page.get_by_test_id("settings-saved").wait_for()
    screenshot(page, "message-settings-saved-ru")
    olga.refresh_from_db()
    assert olga.channel_order[:2] == ["sms", "email"]
    assert (olga.delivery_window_start, olga.delivery_window_end) == (datetime.time(10), datetime.time(19))

    # A stage message queued late on Monday evening in Moscow goes by SMS at 10:00 on Tuesday.
    monday_night = datetime.datetime(2030, 1, 7, 22, 30, tzinfo=MOSCOW)
    with time_machine.travel(monday_night, tick=False):
        message = services.notify_contact(
            olga, template_event="order.stage_changed", key="after", order=order, stage=order.stage
        )
    assert message is not None
    assert message.channel == "sms"
    assert message.deliver_after == datetime.datetime(2030, 1, 8, 10, 0, tzinfo=MOSCOW)
    assert http_endpoint.posts == []

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill("admin@example.com")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/messages/contacts/{olga.pk}/preferences/")
    change = page.get_by_test_id("preference-change").first
    change.get_by_text("By the client, on their message settings page").wait_for()
    change.get_by_text("Contact from: 00:00 → 10:00").wait_for()
    screenshot(page, "preferences-changed-by-client")


def test_the_time_zone_comes_from_the_phone_when_the_client_never_set_one(
    live_server: Any, browser: Any, screenshot: Any, settings: Any
) -> None:
    from orderflow.notifications import contact_links

    settings.BASE_URL = live_server.url
    never_set = ContactFactory(name="Ana Client", email="ana@example.com", language="pt")  # UTC: the default
    in_moscow = ContactFactory(
        name="Olga", email="olga@example.com", language="en", time_zone="Europe/Moscow"
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, timezone_id="America/Sao_Paulo")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(contact_links.contact_link(never_set.pk, contact_links.MESSAGE_SETTINGS))
        zone = page.get_by_label("O seu fuso horário")
        assert zone.input_value() == "America/Sao_Paulo"
        page.get_by_text("Preenchido com o fuso horário deste dispositivo").wait_for()
        screenshot(page, "zone-detected-pt")
        page.get_by_role("button", name="Guardar as minhas definições").click()
        page.get_by_test_id("settings-saved").wait_for()
        never_set.refresh_from_db()
        assert never_set.time_zone == "America/Sao_Paulo"

        # A zone the client (or staff) chose stays; the phone's is offered, not imposed.
        page.goto(contact_links.contact_link(in_moscow.pk, contact_links.MESSAGE_SETTINGS))
        zone = page.get_by_label("Your time zone")
        assert zone.input_value() == "Europe/Moscow"
        page.get_by_role("button", name="Use this device's time zone: America/Sao_Paulo").click()
        assert zone.input_value() == "America/Sao_Paulo"
    finally:
        context.close()
