"""Seed 000's forms in the browser: staff send the questionnaire, the client answers it from the e-mailed
link over two visits with no login, and the order moves; the design review moves by the client's decision.

Real parts: the live server, Chromium, an SMTP server receiving the e-mails. Screenshots of the pages at
1280 and 390 px go to artifacts/screenshots/.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect
from pypdf import PdfReader

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.client_requests import services
from orderflow.client_requests.models import ClientRequest
from orderflow.pipelines.models import Order
from orderflow.pipelines.services import move_order
from tests.factories import TEST_PASSWORD, ContactFactory, OrderFactory, PipelineFactory, UserFactory
from tests.fixtures.browser import DESKTOP, PHONE, Screenshot
from tests.fixtures.smtp import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.integration]

LINK = re.compile(r"https?://\S+/r/[A-Za-z0-9_-]+/")
# Generous waits for answers to save and pages to swap: CI runs the browser tests beside many others.
SLOW = 20_000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 256


def _link_from_mail(smtp: SmtpServer, recipient: str, count: int) -> str:
    """The request link in the newest of the first `count` e-mails sent to `recipient`."""
    for _ in range(3):
        mails = [m for m in smtp.wait_for(count, timeout=20) if recipient in m.envelope_to]
        found = [LINK.search(m.body) for m in mails]
        links = [match[0] for match in found if match]
        if links:
            return links[-1]
        count += 1
    pytest.fail(f"no request link e-mailed to {recipient}")


def _log_in(page: Page, live_server: Any, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def _wait_saved(page: Page, key: str) -> None:
    expect(page.locator(f"#status-{key}")).to_have_text("Saved", timeout=SLOW)


def test_client_answers_the_questionnaire_in_two_visits_and_the_order_moves(
    live_server: Any,
    smtp_delivery: SmtpServer,
    settings: Any,
    browser: Browser,
    page: Page,
    screenshot: Screenshot,
) -> None:
    settings.BASE_URL = live_server.url
    pipeline = PipelineFactory()
    rep: User = UserFactory(role=Role.REP, email="rita@agency.example", full_name="Rita Rep")
    client = ContactFactory(name="Ana Baker", email="ana@bakery.example")
    order = OrderFactory(
        pipeline=pipeline, client=client, by=rep, stage="questionnaire-sent", title="Bakery site"
    )
    services.install_starter_forms(by=rep)

    # Staff send the questionnaire from the order.
    _log_in(page, live_server, "rita@agency.example")
    page.goto(f"{live_server.url}/requests/orders/{order.pk}/send/")
    page.get_by_label("Form").select_option(label="Website questionnaire")
    page.get_by_label("Message").fill("Thanks for your order! Please tell us about your bakery.")
    screenshot(page, "send")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("request-status")).to_have_text("Waiting for an answer")
    request = ClientRequest.objects.get()
    link = _link_from_mail(smtp_delivery, "ana@bakery.example", 1)
    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.get_by_test_id("pending-requests")).to_contain_text("Website questionnaire")
    expect(page.get_by_test_id("age")).to_have_text("0 days")
    screenshot(page, "pending")

    # The client opens the e-mailed link in a fresh browser (no login) and answers half.
    first_visit = browser.new_context(viewport=PHONE)
    client_page = first_visit.new_page()
    client_page.goto(link)
    expect(client_page.get_by_role("heading", level=1)).to_have_text("Website questionnaire")
    expect(client_page.get_by_text("Thanks for your order!")).to_be_visible()
    client_page.get_by_label("Business name").fill("Ana's <b>Bakery</b>")
    _wait_saved(client_page, "business-name")
    client_page.get_by_label("What does your business do?").fill("Cakes and bread since 1990")
    _wait_saved(client_page, "description")
    client_page.get_by_label("Yes").check()
    _wait_saved(client_page, "has-domain")
    expect(client_page.get_by_label("Which domain?")).to_be_visible()
    screenshot(client_page, "half-answered")
    first_visit.close()

    # Later, on another device: the answers are there; they finish, upload the logo and submit.
    second_visit = browser.new_context(viewport=DESKTOP)
    client_page = second_visit.new_page()
    client_page.goto(link)
    expect(client_page.get_by_label("Business name")).to_have_value("Ana's <b>Bakery</b>")
    expect(client_page.get_by_label("What does your business do?")).to_have_value(
        "Cakes and bread since 1990"
    )
    client_page.get_by_label("Which domain?").fill("bakery.pt")
    _wait_saved(client_page, "domain")
    client_page.get_by_label("E-mail for the site's contact form").fill("hello@bakery.pt")
    _wait_saved(client_page, "contact-email")
    client_page.get_by_label("Modern").check()
    _wait_saved(client_page, "style")
    logo: FilePayload = {"name": "logo.png", "mimeType": "image/png", "buffer": PNG}
    client_page.get_by_label("Your logo").set_input_files(files=[logo])
    expect(client_page.get_by_test_id("file-list")).to_contain_text("logo.png", timeout=SLOW)
    screenshot(client_page, "answered")
    client_page.get_by_test_id("submit").click()
    expect(client_page.get_by_test_id("submitted-note")).to_contain_text("Thank you", timeout=SLOW)
    screenshot(client_page, "thank-you")
    second_visit.close()

    order.refresh_from_db()
    assert order.stage.key == "questionnaire-received"
    request.refresh_from_db()
    assert request.status == ClientRequest.Status.SUBMITTED

    # The order's page loads its requests section by htmx: the answers (as text) and the file; the PDF opens.
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    section = page.locator("#order-requests").get_by_test_id("order-requests")
    expect(section).to_contain_text("Ana's <b>Bakery</b>", timeout=SLOW)
    expect(section.get_by_test_id("request-status")).to_have_text("Answered")
    expect(section).to_contain_text("Cakes and bread since 1990")
    expect(section).to_contain_text("bakery.pt")
    expect(section).to_contain_text("hello@bakery.pt")
    expect(section.locator("b")).to_have_count(0)  # typed markup is shown as text, never rendered
    expect(section.get_by_test_id("file-link")).to_have_text("logo.png")
    expect(page.get_by_test_id("timeline")).to_contain_text("Questionnaire Received")
    screenshot(page, "order-page-with-answers")
    download = page.request.get(
        live_server.url + (section.get_by_test_id("file-link").get_attribute("href") or "")
    )
    assert download.status == 200
    assert download.body() == PNG
    pdf_url = section.get_by_test_id("export-pdf").get_attribute("href") or ""
    page.goto(f"{live_server.url}/requests/{request.pk}/")
    expect(page.get_by_test_id("request-status")).to_have_text("Answered")
    expect(page.get_by_test_id("answers")).to_contain_text("hello@bakery.pt")
    screenshot(page, "request-detail")
    pdf = page.request.get(f"{live_server.url}{pdf_url}")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "Ana's <b>Bakery</b>" in text
    assert "logo.png" in text


@pytest.mark.parametrize(
    ("decision", "stage_name"), [("Revisions", "Revisions Submitted"), ("Approved", "Website Approved")]
)
def test_the_design_review_moves_the_order_by_the_clients_choice(
    live_server: Any,
    smtp_delivery: SmtpServer,
    settings: Any,
    browser: Browser,
    screenshot: Screenshot,
    decision: str,
    stage_name: str,
) -> None:
    settings.BASE_URL = live_server.url
    pipeline = PipelineFactory()
    rep: User = UserFactory(role=Role.REP, email="rita@agency.example")
    client = ContactFactory(name="Ana Baker", email="ana@bakery.example")
    order: Order = OrderFactory(pipeline=pipeline, client=client, by=rep, title="Bakery site")
    for key in (
        "questionnaire-sent",
        "questionnaire-received",
        "followup-call-scheduled",
        "initial-design-in-production",
        "initial-design-sent",
    ):
        move_order(order, pipeline.stages.get(key=key), by=rep)
    _questionnaire, review = services.install_starter_forms(by=rep)
    before = len(smtp_delivery.messages)
    services.send_request(
        order,
        form=review,
        recipients=[services.RecipientSpec(name=client.name, email=client.email, contact=client)],
        by=rep,
    )
    link = _link_from_mail(smtp_delivery, "ana@bakery.example", before + 1)

    context = browser.new_context(viewport=PHONE)
    client_page = context.new_page()
    client_page.goto(link)
    client_page.get_by_label(decision).check()
    _wait_saved(client_page, "decision")
    if decision == "Revisions":
        client_page.get_by_label("What should we change?").fill("A bigger logo, please")
        _wait_saved(client_page, "revisions")
    else:
        expect(client_page.get_by_label("What should we change?")).to_be_hidden()
    client_page.get_by_label("4").check()
    _wait_saved(client_page, "rating")
    screenshot(client_page, f"review-{decision.lower()}")
    client_page.get_by_test_id("submit").click()
    expect(client_page.get_by_test_id("submitted-note")).to_be_visible(timeout=SLOW)
    context.close()

    order.refresh_from_db()
    assert order.stage.name == stage_name


def test_without_javascript_the_recipient_saves_and_submits(
    live_server: Any,
    smtp_delivery: SmtpServer,
    settings: Any,
    browser: Browser,
    screenshot: Screenshot,
) -> None:
    """No autosave without JavaScript: the form posts (CSRF must accept it), errors show, answers stay."""
    settings.BASE_URL = live_server.url
    pipeline = PipelineFactory()
    rep: User = UserFactory(role=Role.REP, email="rita@agency.example")
    client = ContactFactory(name="Ana Baker", email="ana@bakery.example")
    order: Order = OrderFactory(pipeline=pipeline, client=client, by=rep, title="Bakery site")
    for key in (
        "questionnaire-sent",
        "questionnaire-received",
        "followup-call-scheduled",
        "initial-design-in-production",
        "initial-design-sent",
    ):
        move_order(order, pipeline.stages.get(key=key), by=rep)
    _questionnaire, review = services.install_starter_forms(by=rep)
    before = len(smtp_delivery.messages)
    services.send_request(
        order,
        form=review,
        recipients=[services.RecipientSpec(name=client.name, email=client.email, contact=client)],
        by=rep,
    )
    link = _link_from_mail(smtp_delivery, "ana@bakery.example", before + 1)

    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    posts: list[int] = []
    context.on("response", lambda r: posts.append(r.status) if r.request.method == "POST" else None)
    client_page = context.new_page()
    client_page.goto(link)
    expect(client_page.get_by_label("What should we change?")).to_be_hidden()
    client_page.get_by_label("Revisions").check()
    client_page.get_by_role("button", name="Save and finish later").click()
    expect(client_page.get_by_test_id("saved-note")).to_contain_text("Your answers are saved.")
    # Saved on the server: the question that depends on the choice is asked now.
    expect(client_page.get_by_label("Revisions")).to_be_checked()
    expect(client_page.get_by_label("What should we change?")).to_be_visible()
    client_page.get_by_test_id("submit").click()
    expect(client_page.get_by_test_id("submit-errors")).to_be_visible()
    expect(client_page.locator("#question-revisions")).to_contain_text("Please answer this question.")
    client_page.get_by_label("What should we change?").fill("A bigger logo, please")
    client_page.get_by_label("4").check()
    screenshot(client_page, "no-javascript")
    client_page.get_by_test_id("submit").click()
    expect(client_page.get_by_test_id("submitted-note")).to_contain_text("Thank you")
    expect(client_page.locator("dl.answers")).to_contain_text("A bigger logo, please")
    context.close()

    assert 403 not in posts
    assert posts == [302, 422, 302]
    order.refresh_from_db()
    assert order.stage.key == "revisions-submitted"


def test_staff_build_a_form_reorder_by_drag_and_by_button_and_preview_it(
    live_server: Any, page: Page, screenshot: Screenshot
) -> None:
    UserFactory(role=Role.REP, email="rita@agency.example")
    _log_in(page, live_server, "rita@agency.example")
    page.goto(f"{live_server.url}/requests/forms/")
    page.get_by_label("Name").fill("Kick-off questions")
    page.get_by_role("button", name="Create and add questions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kick-off questions")

    for kind, label in (("Short text", "Company"), ("Dropdown", "Budget"), ("Long text", "Goals")):
        page.locator("#id_type").select_option(label=kind)
        page.locator("#id_label").fill(label)
        if kind == "Dropdown":
            page.get_by_label("Choices").fill("Small\nLarge")
        page.get_by_role("button", name="Add question").click()
        expect(page.get_by_test_id("question-row").last).to_contain_text(label, timeout=SLOW)
    rows = page.get_by_test_id("question-row")
    expect(rows).to_have_count(3)

    page.get_by_role("button", name="Move Goals up").click()
    expect(rows.nth(1)).to_contain_text("Goals", timeout=SLOW)
    rows.nth(2).locator(".drag-handle").drag_to(rows.nth(0).locator(".drag-handle"))
    expect(rows.nth(0)).to_contain_text("Budget", timeout=SLOW)
    expect(page.locator("[data-sortable]")).not_to_have_attribute("aria-busy", "true", timeout=SLOW)
    screenshot(page, "builder")

    # The new order was saved, not only drawn: a fresh load of the page shows it.
    page.reload()
    expect(rows).to_have_count(3)
    for index, label in enumerate(("Budget", "Company", "Goals")):
        expect(rows.nth(index)).to_contain_text(label)

    page.goto(f"{live_server.url}/requests/forms/")
    expect(page.get_by_test_id("form-library")).to_contain_text("Kick-off questions")
    page.get_by_role("link", name="Preview").click()
    expect(page.get_by_label("Budget")).to_be_visible()
    screenshot(page, "preview")


def test_staff_change_one_requests_questions_and_the_client_reads_them_in_russian(
    live_server: Any,
    smtp_delivery: SmtpServer,
    settings: Any,
    browser: Browser,
    page: Page,
    screenshot: Screenshot,
) -> None:
    settings.BASE_URL = live_server.url
    pipeline = PipelineFactory()
    rep: User = UserFactory(role=Role.REP, email="rita@agency.example")
    client = ContactFactory(name="Олег", email="oleg@bakery.example", language="ru")
    order = OrderFactory(pipeline=pipeline, client=client, by=rep, stage="questionnaire-sent")
    questionnaire, _review = services.install_starter_forms(by=rep)
    request = services.send_request(
        order,
        form=questionnaire,
        recipients=[
            services.RecipientSpec(name=client.name, email=client.email, language="ru", contact=client)
        ],
        by=rep,
    )

    _log_in(page, live_server, "rita@agency.example")
    page.goto(f"{live_server.url}/requests/{request.pk}/")
    page.get_by_role("button", name="Edit the questions").click()
    expect(page.get_by_test_id("own-form-note")).to_contain_text("Website questionnaire")
    page.locator("#id_type").select_option(label="Short text")
    page.locator("#id_label").fill("Favourite colour")
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_test_id("question-row").last).to_contain_text("Favourite colour", timeout=SLOW)
    screenshot(page, "request-own-questions")
    page.goto(f"{live_server.url}/requests/forms/{questionnaire.pk}/preview/?language=ru")
    expect(page.get_by_role("heading", level=1)).to_have_text("Анкета для сайта")
    expect(page.get_by_text("Favourite colour")).to_have_count(0)  # the library form is as it was
    screenshot(page, "preview-russian")

    link = _link_from_mail(smtp_delivery, "oleg@bakery.example", 1)
    context = browser.new_context(viewport=PHONE)
    client_page = context.new_page()
    client_page.goto(link)
    expect(client_page.get_by_role("heading", level=1)).to_have_text("Анкета для сайта")
    expect(client_page.get_by_label("Название компании")).to_be_visible()
    expect(client_page.get_by_label("Favourite colour")).to_be_visible()  # as typed: no translation
    client_page.get_by_label("Современный").check()
    expect(client_page.locator("#status-style")).to_have_text("Сохранено", timeout=SLOW)
    screenshot(client_page, "questionnaire-russian")
    context.close()
    assert request.answers.get(question_key="style").value == "Modern"
