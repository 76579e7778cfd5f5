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


def test_an_admin_builds_a_rule_with_the_form_and_it_runs_on_an_order(
    live_server: Any, page: Any, screenshot: Any
) -> None:
    """ "When the questionnaire comes back, move to Questionnaire Received and give the owner a task",
    clicked together in the editor (htmx swaps the rows in place), then run by the engine on an order."""
    from playwright.sync_api import expect

    from orderflow.accounts.roles import Role
    from orderflow.automation.models import Rule, RuleRun
    from orderflow.pipelines.models import StaffTask

    admin = UserFactory(role=Role.ADMIN, email="adele@example.com", full_name="Adele Admin")
    rep = UserFactory(email="rita@example.com", full_name="Rita Rep")
    pipeline = PipelineFactory()
    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/automation/")
    page.get_by_role("link", name="New rule").click()

    editor = page.locator("#definition-editor")
    editor.get_by_label("Name").fill("Questionnaire answered")
    editor.get_by_label("What happens").select_option(label="When the client submits a request")
    editor.get_by_role("button", name="Add a condition").click()
    condition = editor.get_by_test_id("condition-row")
    expect(condition).to_have_count(1)
    condition.get_by_label("Value").select_option(label="Questionnaire Sent")
    first = editor.get_by_test_id("action-row").nth(0)
    first.get_by_label("Stage").select_option(label="Questionnaire Received")
    editor.get_by_role("button", name="Add an action").click()
    second = editor.get_by_test_id("action-row").nth(1)
    second.get_by_label("Do this").select_option(label="Create a task for the owner…")
    expect(second.get_by_label("Task")).to_be_visible()  # the inputs of the chosen type, swapped in
    second.get_by_label("Task").fill("Read the answers of {client_name}")
    second.get_by_label("Due after (business days)").fill("0")
    editor.get_by_role("button", name="Save", exact=True).click()

    error = second.locator("#id_action-1-due_days_error")  # refused in place, nothing lost
    expect(error).to_contain_text("whole number of business days")
    expect(editor.get_by_label("Name")).to_have_value("Questionnaire answered")
    expect(editor.get_by_test_id("action-row").nth(0).get_by_label("Stage")).to_have_value(
        "questionnaire-received"
    )
    screenshot(page, "rule-editor-refused")
    assert not Rule.objects.exists()
    editor.get_by_test_id("action-row").nth(1).get_by_label("Due after (business days)").fill("2")
    editor.get_by_role("button", name="Save", exact=True).click()

    expect(page).to_have_url(f"{live_server}/automation/")
    expect(page.locator("main")).to_contain_text(
        "When the client submits a request, if stage is “Questionnaire Sent”: move to “Questionnaire Received”, "
        "create the task “Read the answers of {client_name}”"
    )
    screenshot(page, "automation-rules-in-words")
    rule = Rule.objects.get()
    page.goto(f"{live_server}/automation/rules/{rule.pk}/")
    expect(page.locator("#definition-editor").get_by_test_id("action-row")).to_have_count(2)
    screenshot(page, "rule-editor")

    client = ContactFactory(name="Ana Client", email="ana@example.com")
    order = OrderFactory(pipeline=pipeline, client=client, owner=rep, stage="questionnaire-sent")
    record_event(order, OrderEvent.Kind.REQUEST_SUBMITTED, by=None, data={"request": 1})

    order.refresh_from_db()
    assert order.stage.key == "questionnaire-received"
    [task] = StaffTask.objects.filter(order=order)
    assert (task.title, task.assignee) == ("Read the answers of Ana Client", rep)
    assert RuleRun.objects.get(rule=rule, order=order).outcome == RuleRun.Outcome.ACTED
