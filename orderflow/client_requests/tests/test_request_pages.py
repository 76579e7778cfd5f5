"""Staff managing requests over HTTP: cancel, resend, revoke, reopen, edit, the questions of one request,
the moves editor, and an ad-hoc request saved as a template — each with its refusals."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.client_requests import selectors, services
from orderflow.client_requests.models import ClientRequest, FormTemplate
from orderflow.client_requests.tests.conftest import SendTo, token_from_outbox
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import Order, OrderEvent
from tests.factories import ContactFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _action(client: Client, request: ClientRequest, action: str, **data: Any) -> Any:
    return client.post(
        reverse("client_requests:request-action", args=[request.pk, action]), data, follow=True
    )


def _outsider(role: str) -> Client:
    web = Client()
    web.force_login(UserFactory(role=role))
    return web


def _answer_all(token: str) -> None:
    recipient = selectors.recipient_for_token(token)
    assert recipient is not None
    services.save_answer(recipient, "decision", "Approved")
    services.submit_request(recipient)


@pytest.mark.parametrize("role", [Role.CLIENT, Role.CONTRACTOR])
@pytest.mark.parametrize("action", ["cancel", "resend", "reopen", "revoke", "questions", "template"])
def test_clients_and_contractors_may_not_manage_requests(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, role: str, action: str
) -> None:
    request, token = send_to_client(starter_forms["review"])
    if action == "reopen":
        _answer_all(token)
    events, mails, forms = (
        OrderEvent.objects.count(),
        OutboxMessage.objects.count(),
        FormTemplate.objects.count(),
    )
    recipient = request.recipients.get()
    response = _outsider(role).post(
        reverse("client_requests:request-action", args=[request.pk, action]), {"recipient": recipient.pk}
    )
    assert response.status_code == 403
    assert (OrderEvent.objects.count(), OutboxMessage.objects.count(), FormTemplate.objects.count()) == (
        events,
        mails,
        forms,
    )
    assert selectors.recipient_for_token(token) is not None


def test_staff_cancel_a_waiting_request_and_its_link_stops_working(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    request, token = send_to_client(starter_forms["review"])
    client.force_login(rep)
    page = _action(client, request, "cancel").content.decode()
    assert "Request cancelled; its links no longer work." in page
    request.refresh_from_db()
    assert request.status == ClientRequest.Status.CANCELLED
    assert Client().get(reverse("client_requests:respond", args=[token])).status_code == 404


def test_a_request_someone_started_answering_cannot_be_cancelled(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    request, token = send_to_client(starter_forms["review"])
    services.save_answer(selectors.recipient_for_token(token), "decision", "Approved")  # type: ignore[arg-type]
    client.force_login(rep)
    page = _action(client, request, "cancel").content.decode()
    assert "Someone has started answering, so the request can no longer change." in page
    request.refresh_from_db()
    assert request.status == ClientRequest.Status.STARTED
    assert not request.order.events.filter(kind=OrderEvent.Kind.REQUEST_CANCELLED).exists()


def test_staff_send_again_and_only_the_new_link_works(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    request, old = send_to_client(starter_forms["review"])
    client.force_login(rep)
    page = _action(client, request, "resend").content.decode()
    assert "Sent again with new links" in page
    new = token_from_outbox("ana@example.com")
    assert new != old
    assert Client().get(reverse("client_requests:respond", args=[old])).status_code == 404
    assert Client().get(reverse("client_requests:respond", args=[new])).status_code == 200


def test_an_answered_request_is_not_sent_again(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    request, token = send_to_client(starter_forms["review"])
    _answer_all(token)
    mails = OutboxMessage.objects.count()
    client.force_login(rep)
    page = _action(client, request, "resend").content.decode()
    assert "Only a request still waiting for answers can be sent again." in page
    assert OutboxMessage.objects.count() == mails


def test_staff_revoke_one_recipients_link_and_not_another_requests(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    request, token = send_to_client(starter_forms["review"])
    other, other_token = send_to_client(starter_forms["questionnaire"])
    client.force_login(rep)
    # A recipient of another request is not found through this one.
    wrong = client.post(
        reverse("client_requests:request-action", args=[request.pk, "revoke"]),
        {"recipient": other.recipients.get().pk},
    )
    assert wrong.status_code == 404
    assert Client().get(reverse("client_requests:respond", args=[other_token])).status_code == 200
    page = _action(client, request, "revoke", recipient=request.recipients.get().pk).content.decode()
    assert "Link revoked." in page
    assert "link revoked" in page
    assert Client().get(reverse("client_requests:respond", args=[token])).status_code == 404


def test_staff_reopen_an_answered_request_and_the_client_gets_a_new_link(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    sent = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(sent, tick=False):
        request, token = send_to_client(starter_forms["review"])
        _answer_all(token)
    client.force_login(rep)
    with time_machine.travel(sent + datetime.timedelta(days=40), tick=False):
        page = _action(client, request, "reopen").content.decode()
        assert "Reopened: the recipients can change their answers again." in page
        fresh = token_from_outbox("ana@example.com")
        form_page = Client().get(reverse("client_requests:respond", args=[fresh]))
        assert form_page.status_code == 200
        assert 'name="q-decision"' in form_page.content.decode()
        again = _action(client, request, "reopen").content.decode()  # now open: nothing to reopen
        assert "Only an answered request can be reopened." in again
    assert request.order.events.filter(kind=OrderEvent.Kind.REQUEST_REOPENED).count() == 1


def test_a_waiting_request_cannot_be_reopened(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    request, _token = send_to_client(starter_forms["review"])
    client.force_login(rep)
    assert "Only an answered request can be reopened." in _action(client, request, "reopen").content.decode()
    request.refresh_from_db()
    assert request.status == ClientRequest.Status.PENDING


def test_editing_a_request_with_a_past_due_date_is_refused_in_place(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User, client: Client
) -> None:
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC), tick=False):
        request, _token = send_to_client(starter_forms["review"])
        client.force_login(rep)
        url = reverse("client_requests:request-edit", args=[request.pk])
        refused = client.post(url, {"title": "New title", "message": "", "due_date": "2026-02-27"})
        assert refused.status_code == 422
        assert "The due date is in the past." in refused.content.decode()
        request.refresh_from_db()
        assert (request.title, request.due_date) == ("Design review", None)
        saved = client.post(url, {"title": "New title", "message": "", "due_date": "2026-04-30"})
        assert saved.status_code == 302
        request.refresh_from_db()
        assert request.due_date == datetime.date(2026, 4, 30)
        assert request.recipients.get().expires_at == datetime.datetime(2026, 5, 30, tzinfo=datetime.UTC)


def test_edit_the_questions_of_one_request_from_its_page(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order, rep: User, client: Client
) -> None:
    library = starter_forms["review"]
    request, token = send_to_client(library)
    sibling, _sibling_token = send_to_client(library)
    client.force_login(rep)
    detail = client.get(reverse("client_requests:request-detail", args=[request.pk])).content.decode()
    assert "Changes to the questions apply to this request only" in detail
    response = client.post(reverse("client_requests:request-action", args=[request.pk, "questions"]))
    own = FormTemplate.objects.get(client_request=request)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("client_requests:form-builder", args=[own.pk])
    builder = client.get(response.headers["Location"]).content.decode()
    assert "These are the questions of the request" in builder
    added = client.post(
        reverse("client_requests:question-add", args=[own.pk]),
        {"type": "short_text", "label": "Which page first?"},
        headers=HTMX,
    )
    assert added.status_code == 200
    request.refresh_from_db()
    sibling.refresh_from_db()
    assert [q["label"] for q in request.form_version.questions][-1] == "Which page first?"
    assert "Which page first?" not in [q["label"] for q in sibling.form_version.questions]
    assert "Which page first?" not in [
        q["label"] for q in FormTemplate.objects.get(pk=library.pk).latest_version.questions
    ]
    assert (
        "Which page first?" in Client().get(reverse("client_requests:respond", args=[token])).content.decode()
    )
    timeline = client.get(reverse("backoffice:order-detail", args=[order.pk])).content.decode()
    assert "question “Which page first?” added" in timeline

    # Once the client starts answering, the questions are locked.
    services.save_answer(selectors.recipient_for_token(token), "decision", "Approved")  # type: ignore[arg-type]
    locked = client.post(
        reverse("client_requests:question-add", args=[own.pk]),
        {"type": "short_text", "label": "Too late"},
        headers=HTMX,
    )
    assert locked.status_code == 422
    assert "Someone has started answering" in locked.content.decode()
    request.refresh_from_db()
    assert "Too late" not in [q["label"] for q in request.form_version.questions]


def test_the_moves_editor_saves_a_mapping_and_refuses_unknown_stages_and_answers(
    rep: User, client: Client, web_pipeline: object
) -> None:
    form = services.create_form(
        name="Sign-off",
        by=rep,
        definition={
            "questions": [{"type": "dropdown", "label": "Verdict", "choices": ["Yes please", "Not yet"]}]
        },
    )
    client.force_login(rep)
    url = reverse("client_requests:moves-save", args=[form.pk])
    saved = client.post(
        url,
        {
            "on_submit": "Questionnaire Received",
            "question": "verdict",
            "values": "Yes please = website-approved",
        },
        headers=HTMX,
    )
    assert saved.status_code == 200
    assert "Saved" in saved.content.decode()
    moves = FormTemplate.objects.get(pk=form.pk).latest_version.moves
    assert moves == {
        "on_submit": "questionnaire-received",
        "question": "verdict",
        "values": {"Yes please": "website-approved"},
    }

    for data, message in (
        ({"on_submit": "launched-to-the-moon"}, "There is no stage with the key “launched-to-the-moon”."),
        (
            {"question": "verdict", "values": "Yes please = nowhere"},
            "There is no stage with the key “nowhere”.",
        ),
        (
            {"question": "verdict", "values": "Yes = website-approved"},
            "“Yes” is not an answer to “Verdict”",
        ),
        ({"question": "verdict", "values": "website-approved"}, "Write each line as"),
    ):
        refused = client.post(url, data, headers=HTMX)
        assert refused.status_code == 422, data
        assert message in refused.content.decode()
        assert FormTemplate.objects.get(pk=form.pk).latest_version.moves == moves


def test_an_adhoc_request_is_built_on_the_order_sent_and_saved_as_a_template(
    order: Order, rep: User, client: Client
) -> None:
    client.force_login(rep)
    created = client.post(
        reverse("client_requests:adhoc-create", args=[order.pk]), {"name": "Photos for the gallery"}
    )
    adhoc = FormTemplate.objects.get(name="Photos for the gallery")
    assert created.headers["Location"] == reverse("client_requests:form-builder", args=[adhoc.pk])
    assert (adhoc.order, adhoc.is_template) == (order, False)
    client.post(
        reverse("client_requests:question-add", args=[adhoc.pk]),
        {
            "type": "file",
            "label": "Gallery photos",
            "max_files": "5",
            "max_size_mb": "10",
            "file_types": ["jpeg"],
        },
        headers=HTMX,
    )
    library = client.get(reverse("client_requests:form-list")).content.decode()
    assert "Photos for the gallery" not in library  # ad-hoc: not in the library
    send_page = client.get(reverse("client_requests:request-send", args=[order.pk]), {"form": adhoc.pk})
    assert "Photos for the gallery" in send_page.content.decode()
    sent = client.post(
        reverse("client_requests:request-send", args=[order.pk]), {"form": adhoc.pk, "to_client": "on"}
    )
    request = ClientRequest.objects.get()
    assert sent.headers["Location"] == reverse("client_requests:request-detail", args=[request.pk])
    assert request.form_version.form == adhoc

    saved = client.post(
        reverse("client_requests:request-action", args=[request.pk, "template"]), {"name": "Gallery photos"}
    )
    template = FormTemplate.objects.get(name="Gallery photos")
    assert saved.headers["Location"] == reverse("client_requests:form-builder", args=[template.pk])
    assert template.is_template
    assert template.order is None
    assert [q["label"] for q in template.latest_version.questions] == ["Gallery photos"]
    assert template.latest_version.questions[0]["max_files"] == 5
    assert "Gallery photos" in client.get(reverse("client_requests:form-list")).content.decode()
    # Another order can send the template; the ad-hoc form stays with its own order.
    other = OrderFactory(pipeline=order.pipeline, client=ContactFactory(email="zoe@example.com"), by=rep)
    assert template in selectors.forms_to_send(other)
    assert adhoc not in selectors.forms_to_send(other)
