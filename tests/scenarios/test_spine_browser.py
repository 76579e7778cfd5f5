"""The foundation end to end: a rep logs in, opens an order for a new client, moves it, the client is e-mailed.

Every part is real: the live Django server, Chromium, a Celery worker process on the filesystem
broker and an SMTP server. Screenshots of each page at 1280 and 390 px go to artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from orderflow.accounts.roles import Role
from orderflow.pipelines.models import Order
from tests.factories import TEST_PASSWORD, PipelineFactory, UserFactory
from tests.fixtures.browser import Screenshot
from tests.fixtures.celery_worker import CeleryWorkerProcess
from tests.fixtures.smtp import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_rep_opens_an_order_moves_it_and_the_client_is_emailed(
    live_server: object,
    celery_worker_filesystem: CeleryWorkerProcess,
    smtp_server: SmtpServer,
    page: Page,
    screenshot: Screenshot,
) -> None:
    PipelineFactory()
    UserFactory(role=Role.REP, email="rita@agency.example", full_name="Rita Rep")

    page.goto(f"{live_server}/accounts/login/")
    screenshot(page, "login")
    page.get_by_label("E-mail").fill("Rita@Agency.example")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    page.goto(f"{live_server}/orders/new/")
    page.get_by_label("Pipeline").select_option(label="Website project")
    page.get_by_label("Title").fill("Bakery website")
    expect(page.get_by_label("Existing client")).to_have_value("")
    page.get_by_label("or a new client: name").fill("Ana Baker")
    page.get_by_label("New client's e-mail").fill("ana@bakery.example")
    page.get_by_label("New client's language").select_option("en")
    expect(page.get_by_label("Owner")).to_be_visible()
    screenshot(page, "order-form")
    page.get_by_role("button", name="Create order").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("WEB-00001")
    expect(page.get_by_test_id("stage-badge")).to_have_text("Order Received")
    order = Order.objects.get()
    assert (order.reference, order.title, order.client.email) == (
        "WEB-00001",
        "Bakery website",
        "ana@bakery.example",
    )

    page.get_by_label("Move to").select_option(label="Questionnaire Sent")
    page.get_by_label("Reason (optional)").fill("Paid in full")
    page.get_by_role("button", name="Move", exact=True).click()

    expect(page.get_by_test_id("stage-badge")).to_have_text("Questionnaire Sent")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Questionnaire Sent")
    expect(timeline).to_contain_text("Paid in full")
    screenshot(page, "order-card")

    [mail] = smtp_server.wait_for(1, timeout=30)
    assert mail.envelope_to == ["ana@bakery.example"]
    assert "WEB-00001" in mail.subject
    assert "Waiting for your questionnaire" in mail.subject
