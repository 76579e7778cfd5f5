"""In the browser: a rep pauses, resumes, skips and sends now a reminder from the order card (screenshots)."""

from __future__ import annotations

from typing import Any

import pytest

from orderflow.automation.models import Reminder
from orderflow.automation.services import save_sequence
from orderflow.automation.tests.conftest import questionnaire_steps
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import OrderEvent
from orderflow.pipelines.services import record_event
from tests.factories import TEST_PASSWORD, ContactFactory, OrderFactory, PipelineFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_controls_a_reminder_from_the_order_card(live_server: Any, page: Any, screenshot: Any) -> None:
    from playwright.sync_api import expect

    rep = UserFactory(email="rita@example.com", full_name="Rita Rep")
    pipeline = PipelineFactory()
    save_sequence(
        pipeline,
        {
            "key": "questionnaire",
            "name": "Questionnaire reminders",
            "start": "request.sent",
            "steps": questionnaire_steps(),
        },
    )
    client = ContactFactory(name="Ana Client", email="ana@example.com")
    order = OrderFactory(pipeline=pipeline, client=client, owner=rep, title="Bakery website")
    record_event(order, OrderEvent.Kind.REQUEST_SENT, by=None, data={"request": 1})  # starts the reminder
    reminder = Reminder.objects.get(order=order)

    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill(rep.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/orders/{order.pk}/")

    section = page.locator("#order-reminders")
    state = section.get_by_test_id("reminder-state")
    expect(state).to_contain_text("reminder 1 of 4")
    screenshot(page, "order-card-reminders")

    section.get_by_role("button", name="Pause: Questionnaire reminders").click()
    expect(state).to_contain_text("Paused")
    expect(section.get_by_role("button", name="Send now: Questionnaire reminders")).to_have_count(0)
    section.get_by_role("button", name="Resume: Questionnaire reminders").click()
    expect(state).to_contain_text("reminder 1 of 4")
    section.get_by_role("button", name="Skip this one: Questionnaire reminders").click()
    expect(state).to_contain_text("reminder 2 of 4")
    expect(page.locator("#order-next")).to_contain_text("reminder 2 of 4")  # the card's "Next" follows
    section.get_by_role("button", name="Send now: Questionnaire reminders").click()
    expect(state).to_contain_text("reminder 3 of 4")  # a worker sent reminder 2 at once
    expect(page.locator("#order-next")).to_contain_text("reminder 3 of 4")
    screenshot(page, "order-card-reminder-sent")

    reminder.refresh_from_db()
    assert (reminder.status, reminder.next_step) == (Reminder.Status.ACTIVE, 2)
    [sent] = order.events.filter(kind=OrderEvent.Kind.REMINDER_SENT)
    assert sent.data["step"] == 2
    assert (
        OutboxMessage.objects.get(order=order, idempotency_key__startswith="reminder:").recipient
        == client.email
    )
    assert page.url.endswith(f"/orders/{order.pk}/")  # all of it in place, no page loads
