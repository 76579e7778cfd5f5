# ruff: noqa: RUF001  (Russian text: Cyrillic letters that look Latin are meant)
"""The recipient's pages and the staff pages over HTTP: autosave, refusals, the card partial, exports."""

from __future__ import annotations

import datetime
import io
import re
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.client_requests import selectors, services
from orderflow.client_requests.models import Answer, ClientRequest, FormTemplate
from orderflow.client_requests.tests.conftest import SendTo
from orderflow.pipelines.models import Order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
XSS = "<script>alert('x')</script>"
HTMX = {"HX-Request": "true"}
CSRF = re.compile(rb'"X-CSRFToken": "[^"]+"')


def _answer(client: Client, token: str, key: str, value: str | list[str]) -> Any:
    return client.post(
        reverse("client_requests:respond-answer", args=[token, key]), {f"q-{key}": value}, headers=HTMX
    )


def _submitted(starter_forms: dict[str, FormTemplate], send_to_client: SendTo) -> tuple[ClientRequest, str]:
    request, token = send_to_client(starter_forms["questionnaire"])
    web = Client()
    for key, value in {
        "business-name": XSS,
        "description": "Cakes\nand bread",
        "contact-email": "ana@bolos.pt",
        "has-domain": "no",
        "style": "Modern",
    }.items():
        assert _answer(web, token, key, value).status_code == 200
    upload = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    web.post(
        reverse("client_requests:respond-files", args=[token, "logo"]), {"file-logo": upload}, headers=HTMX
    )
    response = web.post(reverse("client_requests:respond-submit", args=[token]), headers=HTMX)
    assert response.status_code == 200, response.content
    request.refresh_from_db()
    return request, token


def test_the_recipient_page_shows_the_request_and_nothing_of_the_order(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order
) -> None:
    _request, token = send_to_client(starter_forms["questionnaire"], message="Hello from us")
    response = Client().get(reverse("client_requests:respond", args=[token]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Website questionnaire" in page
    assert "Hello from us" in page
    assert order.title not in page
    assert order.reference not in page
    assert response.headers["Cache-Control"].startswith("max-age=0")
    # Never leaks the link to other sites, yet keeps the origin on our own form posts (CSRF).
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_every_broken_link_gets_the_same_page(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    _request, token = send_to_client(starter_forms["questionnaire"])
    revoked_request, revoked_token = send_to_client(starter_forms["review"])
    services.revoke_recipient(revoked_request.recipients.get(), by=rep)
    web = Client()
    tampered = web.get(reverse("client_requests:respond", args=[token[:-2] + "zz"]))
    revoked = web.get(reverse("client_requests:respond", args=[revoked_token]))
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=400)):
        expired = web.get(reverse("client_requests:respond", args=[token]))
        expired_save = _answer(web, token, "business-name", "x")
    assert (
        tampered.status_code == revoked.status_code == expired.status_code == expired_save.status_code == 404
    )
    pages = {CSRF.sub(b"", response.content) for response in (tampered, revoked, expired)}
    assert len(pages) == 1  # the same page, whatever the reason
    assert b"This link does not work" in tampered.content
    assert not Answer.objects.exists()


def test_autosave_answers_saved_or_the_error_and_shows_dependent_questions(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    web = Client()
    saved = _answer(web, token, "has-domain", "yes")
    assert saved.status_code == 200
    assert b"Saved" in saved.content
    assert b'id="question-domain"' in saved.content
    refused = _answer(web, token, "contact-email", "nope")
    assert refused.status_code == 422
    assert b"e-mail address" in refused.content
    _answer(web, token, "pages", ["Shop", "Home"])
    assert Answer.objects.get(request=request, question_key="pages").value == ["Home", "Shop"]


def test_submit_with_missing_answers_shows_errors_in_place(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo
) -> None:
    _request, token = send_to_client(starter_forms["questionnaire"])
    response = Client().post(reverse("client_requests:respond-submit", args=[token]), headers=HTMX)
    assert response.status_code == 422
    assert b"Please answer this question." in response.content
    assert b'id="respond-form"' in response.content


def test_a_refused_submit_says_so_next_to_the_button_and_leads_to_the_first_missing_answer(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo
) -> None:
    _request, token = send_to_client(starter_forms["questionnaire"])
    web = Client()
    _answer(web, token, "business-name", "Bolos")
    response = web.post(reverse("client_requests:respond-submit", args=[token]), headers=HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    # On a phone the client is at the button, a screen away from the summary at the top of the form.
    actions = page[page.index('class="respond-actions"') :]
    near_button = re.search(r'data-testid="submit-refused">(.*?)</p>', actions, re.S)
    assert near_button is not None
    assert "What does your business do?" in near_button.group(1)  # the first unanswered, not the answered one
    assert 'href="#question-description"' in near_button.group(1)
    assert 'id="question-description"' in page


def test_a_forbidden_upload_is_refused_in_place_and_answers_stay(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    web = Client()
    _answer(web, token, "business-name", "Bolos")
    exe = SimpleUploadedFile("logo.png", b"MZ\x90\x00" + b"\x00" * 64, content_type="image/png")
    response = web.post(
        reverse("client_requests:respond-files", args=[token, "logo"]), {"file-logo": exe}, headers=HTMX
    )
    assert response.status_code == 422
    assert "not an allowed type" in response.content.decode()
    assert request.files.count() == 0
    assert Answer.objects.get(request=request, question_key="business-name").value == "Bolos"


def test_after_submitting_the_page_is_read_only_and_answers_are_escaped(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo
) -> None:
    request, token = _submitted(starter_forms, send_to_client)
    assert request.status == ClientRequest.Status.SUBMITTED
    page = Client().get(reverse("client_requests:respond", args=[token])).content.decode()
    assert "Thank you, your answers were sent." in page
    assert XSS not in page
    assert "&lt;script&gt;" in page
    assert 'name="q-' not in page
    assert _answer(Client(), token, "style", "Classic").status_code == 422


def test_the_order_card_partial_shows_answers_escaped_and_files_for_staff(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order, rep: User, client: Client
) -> None:
    request, _token = _submitted(starter_forms, send_to_client)
    client.force_login(rep)
    url = reverse("client_requests:order-requests", args=[order.pk])
    page = client.get(url).content.decode()
    assert "&lt;script&gt;" in page
    assert XSS not in page
    assert "Cakes<br>and bread" in page
    file_url = reverse("client_requests:file-download", args=[request.files.get().pk])
    assert file_url in page
    download = client.get(file_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG  # type: ignore[attr-defined]
    assert "attachment" in download.headers["Content-Disposition"]


def test_files_and_exports_are_for_staff_only(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order
) -> None:
    request, token = _submitted(starter_forms, send_to_client)
    file_url = reverse("client_requests:file-download", args=[request.files.get().pk])
    anonymous = Client()
    assert anonymous.get(file_url).status_code == 302  # to the login page
    a_client_user = Client()
    a_client_user.force_login(UserFactory(role=Role.CLIENT))
    for url in (
        file_url,
        reverse("client_requests:export-pdf", args=[request.pk]),
        reverse("client_requests:export-csv", args=[request.pk]),
        reverse("client_requests:order-requests", args=[order.pk]),
    ):
        assert a_client_user.get(url).status_code == 403
    assert (
        str(request.files.get().file.name)
        not in Client().get(reverse("client_requests:respond", args=[token])).content.decode()
    )


def test_pdf_and_csv_exports_hold_the_answers_as_text(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    request, _token = _submitted(starter_forms, send_to_client)
    client.force_login(rep)
    pdf = client.get(reverse("client_requests:export-pdf", args=[request.pk]))
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Business name" in text
    assert "alert('x')" in text
    assert "logo.png" in text
    csv = client.get(reverse("client_requests:export-csv", args=[request.pk])).content.decode()
    assert "Business name," in csv
    assert XSS in csv


def test_a_russian_clients_answers_export_to_pdf_and_read_back(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    recipient = request.recipients.get()
    recipient.language = "ru"
    recipient.save(update_fields=["language"])
    web = Client()
    answers = {
        "business-name": "Пекарня «Булочка»",
        "description": "Хлеб и торты с 1990 года.\nДоставка по Москве.",
        "contact-email": "hello@bulochka.ru",
        "has-domain": "no",
        "style": "Modern",
    }
    for key, value in answers.items():
        assert _answer(web, token, key, value).status_code == 200
    assert web.post(reverse("client_requests:respond-submit", args=[token]), headers=HTMX).status_code == 200
    client.force_login(rep)
    pdf = client.get(reverse("client_requests:export-pdf", args=[request.pk]))
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Пекарня «Булочка»" in text
    assert "Хлеб и торты с 1990 года." in text
    assert "Доставка по Москве." in text
    assert "?????" not in text


def test_staff_send_a_request_from_the_order_and_see_it_pending(
    starter_forms: dict[str, FormTemplate], order: Order, rep: User, client: Client
) -> None:
    client.force_login(rep)
    page = client.get(reverse("client_requests:request-send", args=[order.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("client_requests:request-send", args=[order.pk]),
        {
            "form": starter_forms["questionnaire"].pk,
            "to_client": "on",
            "others": "Jo Spouse, jo@example.com, pt",
            "message": "Thanks for your order",
        },
    )
    request = ClientRequest.objects.get()
    assert response.status_code == 302
    assert sorted(request.recipients.values_list("email", "language")) == [
        ("ana@example.com", "en"),
        ("jo@example.com", "pt"),
    ]
    listing = client.get(reverse("client_requests:pending-list")).content.decode()
    assert "Website questionnaire" in listing
    assert "0 days" in listing
    assert client.get(reverse("client_requests:request-detail", args=[request.pk])).status_code == 200
    assert list(selectors.pending_requests_for(order.client)) == [request]


def test_the_builder_adds_edits_reorders_and_removes_questions(rep: User, client: Client) -> None:
    client.force_login(rep)
    client.post(reverse("client_requests:form-list"), {"name": "Kick-off"})
    form = FormTemplate.objects.get()
    add = reverse("client_requests:question-add", args=[form.pk])
    client.post(add, {"type": "short_text", "label": "Company"}, headers=HTMX)
    client.post(
        add,
        {"type": "dropdown", "label": "Budget", "choices": "Small\nLarge", "required": "on"},
        headers=HTMX,
    )
    client.post(
        add,
        {"type": "file", "label": "Brief", "max_files": "2", "max_size_mb": "5", "file_types": ["pdf"]},
        headers=HTMX,
    )
    assert [q["key"] for q in form.latest_version.questions] == ["company", "budget", "brief"]
    client.post(
        reverse("client_requests:questions-reorder", args=[form.pk]),
        {"order": "brief,company,budget"},
        headers=HTMX,
    )
    client.post(
        reverse("client_requests:question-shift", args=[form.pk, "budget"]), {"direction": "up"}, headers=HTMX
    )
    client.post(
        reverse("client_requests:question-edit", args=[form.pk, "company"]),
        {"type": "short_text", "label": "Company name", "max_length": "80"},
        headers=HTMX,
    )
    client.post(reverse("client_requests:question-delete", args=[form.pk, "brief"]), headers=HTMX)
    form = FormTemplate.objects.get()
    assert [(q["key"], q["label"]) for q in form.latest_version.questions] == [
        ("budget", "Budget"),
        ("company", "Company name"),
    ]
    assert form.latest_version.questions[1]["max_length"] == 80
    assert client.get(reverse("client_requests:form-builder", args=[form.pk])).status_code == 200
    assert client.get(reverse("client_requests:form-preview", args=[form.pk])).status_code == 200


def test_pending_list_query_count_does_not_grow_with_rows(
    starter_forms: dict[str, FormTemplate],
    send_to_client: SendTo,
    rep: User,
    client: Client,
    django_assert_max_num_queries: object,
) -> None:
    client.force_login(rep)
    send_to_client(starter_forms["questionnaire"])
    url = reverse("client_requests:pending-list")
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        send_to_client(starter_forms["review"])
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_the_order_card_section_costs_the_same_queries_for_one_or_many_requests(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order, rep: User, client: Client
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(rep)
    _submitted(starter_forms, send_to_client)
    url = reverse("client_requests:order-requests", args=[order.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(4):
        _submitted(starter_forms, send_to_client)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert page.content.decode().count('data-testid="order-request"') == 5
    assert len(many) == len(few)


def test_the_recipient_page_speaks_the_recipients_language(
    starter_forms: dict[str, FormTemplate], order: Order, rep: User
) -> None:
    services.send_request(
        order,
        form=starter_forms["review"],
        recipients=[services.RecipientSpec(name="Joana", email="joana@example.com", language="pt")],
        by=rep,
    )
    from orderflow.client_requests.tests.conftest import token_from_outbox

    response = Client().get(reverse("client_requests:respond", args=[token_from_outbox("joana@example.com")]))
    assert response.headers["Content-Language"] == "pt"
    assert '<html lang="pt">' in response.content.decode()


def test_staff_add_the_starter_forms_once(rep: User, client: Client) -> None:
    client.force_login(rep)
    for _ in range(2):
        assert client.post(reverse("client_requests:form-starters")).status_code == 302
    assert sorted(FormTemplate.objects.values_list("name", flat=True)) == [
        "Design review",
        "Website questionnaire",
    ]
    assert "Design review" in client.get(reverse("client_requests:form-list")).content.decode()


def test_the_thank_you_says_when_the_answers_were_sent_in_the_clients_own_zone(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order
) -> None:
    order.client.time_zone = "America/New_York"
    order.client.save()
    with time_machine.travel(datetime.datetime(2027, 3, 16, 14, 5, tzinfo=datetime.UTC), tick=False):
        _request, token = _submitted(starter_forms, send_to_client)
    page = Client().get(reverse("client_requests:respond", args=[token])).content.decode()
    assert "Sent on March 16, 2027, 10:05 a.m." in page  # 14:05 UTC is 10:05 in New York (EDT)
