"""In the browser: staff read the delivery log, set a client's hours, and preview a template (screenshots)."""

from __future__ import annotations

from typing import Any

import pytest

from orderflow.accounts.roles import Role
from orderflow.notifications import services
from orderflow.notifications.models import OutboxMessage
from tests.factories import TEST_PASSWORD, ContactFactory, OrderFactory, PipelineFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_use_the_message_pages(live_server: Any, page: Any, screenshot: Any) -> None:
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    pipeline = PipelineFactory()
    client = ContactFactory(name="Olga Petrova", email="olga@example.com", language="ru")
    order = OrderFactory(pipeline=pipeline, client=client, by=admin, title="Bakery website")
    waiting = services.notify_contact(
        client, template_event="order.stage_changed", key="a", order=order, stage=order.stage
    )
    assert waiting is not None
    OutboxMessage.objects.filter(pk=waiting.pk).update(
        status="failed", attempts=5, last_error="SMTPServerDisconnected: timed out"
    )

    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill("admin@example.com")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Messages").click()
    page.get_by_text("SMTPServerDisconnected").wait_for()
    screenshot(page, "log")
    page.get_by_role("button", name="Send again").click()
    page.get_by_text("Sent again to olga@example.com").wait_for()

    page.get_by_role("link", name="preferences").first.click()
    page.get_by_label("Contact from").fill("09:00")
    page.get_by_label("Contact until").fill("21:00")
    page.get_by_role("textbox", name="Phone").fill("12")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("international form").first.wait_for()
    screenshot(page, "preferences-refused")
    page.get_by_role("textbox", name="Phone").fill("+7 912 345 67 89")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()

    page.goto(f"{live_server}/messages/templates/order.stage_changed/email/ru/")
    page.get_by_role("button", name="Preview").click()
    page.locator("#template-preview").get_by_text("Здравствуйте, Olga Petrova!").wait_for()
    screenshot(page, "template-preview")
