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


def _launched_order(admin: Any, **client: Any) -> Any:
    """An order moved to "Site Launched" by the services, so its client was asked for feedback."""
    from orderflow.pipelines.services import move_order, update_order

    pipeline = PipelineFactory()
    order = OrderFactory(pipeline=pipeline, client=ContactFactory(**client), by=admin, title="Bakery website")
    move_order(order, pipeline.stages.get(key="website-approved"), by=admin)
    update_order(order, by=admin, fields={"live-site": "https://bakery.example"})
    move_order(order, pipeline.stages.get(key="site-launched"), by=admin)
    return order


def test_a_client_rates_the_finished_order_on_a_phone(
    live_server: Any, page: Any, screenshot: Any, settings: Any
) -> None:
    from orderflow.notifications.feedback import feedback_url

    settings.BASE_URL = live_server.url
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    order = _launched_order(admin, name="Ana Client", email="ana@example.com", language="en")
    link = feedback_url(order.feedback)
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(link)
    page.get_by_role("heading", name="How did we do?").wait_for()
    screenshot(page, "feedback-ask")
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("Choose a rating from 1 to 5.").wait_for()
    screenshot(page, "feedback-refused")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling on a phone"
    page.locator("label.rating-choice", has_text="4").click()
    page.get_by_label("Anything you would like to tell us? (optional)").fill("Lovely site, a little late.")
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("We have received your answer").wait_for()
    screenshot(page, "feedback-thanks")
    page.reload()  # the browser submits again
    page.get_by_text("Lovely site, a little late.").wait_for()
    order.feedback.refresh_from_db()
    assert order.feedback.rating == 4

    page.goto(link[:-4] + "AAA/")
    page.get_by_role("heading", name="This link does not work").wait_for()
    screenshot(page, "feedback-tampered")

    for language in ("pt", "ru"):
        other = _launched_order(admin, name="Olga", email=f"olga-{language}@example.com", language=language)
        page.goto(feedback_url(other.feedback))
        page.locator(f"html[lang='{language}']").wait_for()
        screenshot(page, f"feedback-ask-{language}")


def test_staff_see_feedback_and_act_on_a_failing_message(
    live_server: Any, page: Any, screenshot: Any
) -> None:
    from orderflow.notifications.feedback import submit_feedback

    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    order = _launched_order(admin, name="Ana Client", email="ana@example.com")
    submit_feedback(order.feedback, rating=5, comment="Wonderful work, thank you!")
    for rating in (4, 4, 2):
        submit_feedback(_launched_order(admin).feedback, rating=rating, comment="")
    failing = services.notify_contact(
        order.client, template_event="order.stage_changed", key="failing", order=order, stage=order.stage
    )
    assert failing is not None
    OutboxMessage.objects.filter(pk=failing.pk).update(
        status="queued", attempts=6, last_error="SMTPServerDisconnected: Connection unexpectedly closed"
    )

    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill("admin@example.com")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server}/messages/")
    page.get_by_role("link", name="Client feedback").click()
    page.get_by_test_id("feedback-average").wait_for()
    assert page.get_by_test_id("feedback-average").inner_text() == "3.8"
    screenshot(page, "feedback-report")

    page.get_by_role("link", name=order.reference).first.click()
    page.locator("#order-feedback").get_by_text("Wonderful work, thank you!").wait_for()
    page.locator(f"#order-message-{failing.pk}").get_by_text("SMTPServerDisconnected").wait_for()
    screenshot(page, "order-card-feedback-and-failing")
    page.locator(f"#order-message-{failing.pk}").get_by_role("button", name="Give up").click()
    page.get_by_text("No more attempts will be made.").wait_for()
    failing.refresh_from_db()
    assert failing.status == OutboxMessage.Status.FAILED
