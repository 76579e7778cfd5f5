"""Sending, answering and submitting requests: events, links, autosave, moves, and every refusal."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from orderflow.accounts.models import Contact, User
from orderflow.client_requests import selectors, services
from orderflow.client_requests.definitions import AnswerError
from orderflow.client_requests.models import Answer, ClientRequest, FormTemplate, Recipient, Submission
from orderflow.client_requests.services import RequestClosedError, SubmissionIncomplete
from orderflow.client_requests.tests.conftest import SendTo, token_from_outbox
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import Order, OrderEvent
from orderflow.pipelines.services import move_order
from tests.factories import ContactFactory, OrderFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _recipient(token: str) -> Recipient:
    recipient = selectors.recipient_for_token(token)
    assert recipient is not None
    return recipient


def _fill_questionnaire(recipient: Recipient) -> None:
    for key, value in {
        "business-name": "Bolos da Ana",
        "description": "Cakes",
        "contact-email": "ana@bolos.pt",
        "has-domain": "no",
        "style": "Modern",
    }.items():
        services.save_answer(recipient, key, value)


def test_sending_records_an_event_emails_each_recipient_and_stores_only_a_hash(
    starter_forms: dict[str, FormTemplate], order: Order, rep: User
) -> None:
    request = services.send_request(
        order,
        form=starter_forms["questionnaire"],
        recipients=[
            services.RecipientSpec(name="Ana Client", email="ana@example.com", contact=order.client),
            services.RecipientSpec(name="Jo Spouse", email="jo@example.com", language="pt"),
        ],
        message="Please fill this in",
        due_date=datetime.date.today() + datetime.timedelta(days=7),
        by=rep,
    )
    event = order.events.get(kind=OrderEvent.Kind.REQUEST_SENT)
    assert event.data == {"request": request.pk, "recipients": ["Ana Client", "Jo Spouse"]}
    token = token_from_outbox("jo@example.com")
    spouse = request.recipients.get(email="jo@example.com")
    assert spouse.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in spouse.token_hash
    mail = OutboxMessage.objects.get(recipient="jo@example.com")
    assert mail.language == "pt"
    assert "Please fill this in" in mail.body_text
    assert token_from_outbox("ana@example.com") != token


def test_a_request_without_questions_or_recipients_is_refused(order: Order, rep: User) -> None:
    empty = services.create_form(name="Empty", by=rep)
    with pytest.raises(services.RequestError):
        services.send_request(
            order, form=empty, recipients=[services.RecipientSpec("A", "a@example.com")], by=rep
        )
    with pytest.raises(services.RequestError):
        services.send_request(order, form=empty, recipients=[], by=rep)


def test_tampered_expired_revoked_and_cancelled_links_all_open_nothing(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    assert selectors.recipient_for_token(token) is not None
    assert selectors.recipient_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert selectors.recipient_for_token("x" * 500) is None
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=400)):
        assert selectors.recipient_for_token(token) is None
    services.revoke_recipient(request.recipients.get(), by=rep)
    assert selectors.recipient_for_token(token) is None
    other, other_token = send_to_client(starter_forms["review"])
    services.cancel_request(other, by=rep)
    assert selectors.recipient_for_token(other_token) is None
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.REQUEST_CANCELLED).count() == 1


def test_resending_replaces_the_link_and_editing_stops_once_someone_answers(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    request, first = send_to_client(starter_forms["questionnaire"])
    services.update_request(request, by=rep, title="Your questionnaire", message="Hi", due_date=None)
    services.resend_request(request, by=rep)
    second = token_from_outbox("ana@example.com")
    assert second != first
    assert selectors.recipient_for_token(first) is None
    services.save_answer(_recipient(second), "business-name", "Bolos")
    request.refresh_from_db()
    assert request.status == ClientRequest.Status.STARTED
    for change in (
        lambda: services.update_request(request, by=rep, title="X", message="", due_date=None),
        lambda: services.cancel_request(request, by=rep),
        lambda: services.resend_request(request, by=rep),
    ):
        with pytest.raises(RequestClosedError):
            change()
    kinds = list(request.order.events.filter(kind__startswith="request.").values_list("kind", flat=True))
    assert kinds == [
        OrderEvent.Kind.REQUEST_SENT,
        OrderEvent.Kind.REQUEST_CHANGED,
        OrderEvent.Kind.REQUEST_SENT,
    ]


def test_autosave_keeps_one_row_per_question_so_two_tabs_lose_nothing(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    tab_one, tab_two = _recipient(token), _recipient(token)
    services.save_answer(tab_one, "business-name", "Bolos")
    services.save_answer(tab_two, "description", "Cakes")
    services.save_answer(tab_one, "business-name", "Bolos da Ana")
    assert dict(request.answers.values_list("question_key", "value")) == {
        "business-name": "Bolos da Ana",
        "description": "Cakes",
    }


def test_a_wrong_answer_is_refused_and_the_saved_one_stays(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    recipient = _recipient(token)
    services.save_answer(recipient, "contact-email", "ana@bolos.pt")
    with pytest.raises(AnswerError):
        services.save_answer(recipient, "contact-email", "not an address")
    assert Answer.objects.get(request=request, question_key="contact-email").value == "ana@bolos.pt"


def test_submitting_the_questionnaire_moves_the_order_to_questionnaire_received(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    recipient = _recipient(token)
    services.save_answer(recipient, "business-name", "Bolos")
    with pytest.raises(SubmissionIncomplete) as incomplete:
        services.submit_request(recipient)
    assert set(incomplete.value.errors) == {"description", "contact-email", "has-domain", "style"}
    _fill_questionnaire(recipient)
    submission = services.submit_request(recipient)
    order.refresh_from_db()
    assert order.stage.key == "questionnaire-received"
    request.refresh_from_db()
    assert request.status == ClientRequest.Status.SUBMITTED
    assert submission.answers["business-name"] == "Bolos da Ana"
    assert "domain" not in submission.answers  # hidden by show-if
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds[-2:] == [OrderEvent.Kind.REQUEST_SUBMITTED, OrderEvent.Kind.STAGE_CHANGED]
    with pytest.raises(RequestClosedError):
        services.save_answer(recipient, "business-name", "Changed")


def test_double_submit_makes_one_submission_and_one_move(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    recipient = _recipient(token)
    _fill_questionnaire(recipient)
    first = services.submit_request(recipient)
    second = services.submit_request(_recipient(token))
    assert first.pk == second.pk
    assert Submission.objects.filter(request=request).count() == 1
    assert (
        order.events.filter(
            kind=OrderEvent.Kind.STAGE_CHANGED, to_stage__key="questionnaire-received"
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    ("decision", "stage"), [("Revisions", "revisions-submitted"), ("Approved", "website-approved")]
)
def test_the_design_review_moves_the_order_by_the_decision(
    starter_forms: dict[str, FormTemplate],
    send_to_client: SendTo,
    order: Order,
    rep: User,
    decision: str,
    stage: str,
) -> None:
    for key in (
        "questionnaire-received",
        "followup-call-scheduled",
        "initial-design-in-production",
        "initial-design-sent",
    ):
        move_order(order, order.pipeline.stages.get(key=key), by=rep)
    _request, token = send_to_client(starter_forms["review"])
    recipient = _recipient(token)
    services.save_answer(recipient, "decision", decision)
    if decision == "Revisions":
        services.save_answer(recipient, "revisions", "Bigger logo")
    services.submit_request(recipient)
    order.refresh_from_db()
    assert order.stage.key == stage


def test_a_refused_move_is_recorded_and_the_answers_stay_submitted(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order
) -> None:
    # Revisions Submitted may only be entered from Initial Design Sent; the order is at Questionnaire Sent.
    request, token = send_to_client(starter_forms["review"])
    recipient = _recipient(token)
    services.save_answer(recipient, "decision", "Revisions")
    services.save_answer(recipient, "revisions", "Change the colours")
    services.submit_request(recipient)
    order.refresh_from_db()
    request.refresh_from_db()
    assert order.stage.key == "questionnaire-sent"
    assert request.status == ClientRequest.Status.SUBMITTED
    refusal = order.events.get(kind=OrderEvent.Kind.RULE_ACTED)
    assert refusal.data["refused_stage"] == "revisions-submitted"
    assert "could not move" in refusal.message


def test_reopening_lets_the_client_change_answers_and_submit_again(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    recipient = _recipient(token)
    _fill_questionnaire(recipient)
    services.submit_request(recipient)
    services.reopen_request(request, by=rep)
    services.save_answer(_recipient(token), "style", "Classic")
    second = services.submit_request(_recipient(token))
    assert second.number == 2
    assert second.answers["style"] == "Classic"


def test_oversized_and_forbidden_files_are_refused_and_other_answers_stay(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    recipient = _recipient(token)
    services.save_answer(recipient, "business-name", "Bolos")
    big = SimpleUploadedFile("logo.png", PNG + b"\x00" * (10 * 1024 * 1024), content_type="image/png")
    with pytest.raises(AnswerError) as too_big:
        services.add_files(recipient, "logo", [big])
    assert too_big.value.code == "file_too_large"
    disguised = SimpleUploadedFile("logo.png", b"MZ\x90\x00" + b"\x00" * 100, content_type="image/png")
    with pytest.raises(AnswerError) as wrong_type:
        services.add_files(recipient, "logo", [disguised])
    assert wrong_type.value.code == "file_type"
    assert request.files.count() == 0
    assert Answer.objects.get(request=request, question_key="business-name").value == "Bolos"
    [kept] = services.add_files(
        recipient, "logo", [SimpleUploadedFile("logo.png", PNG, content_type="image/png")]
    )
    assert (kept.content_type, kept.original_name) == ("image/png", "logo.png")


def test_editing_an_answered_form_makes_a_new_version_and_old_answers_keep_theirs(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    form = starter_forms["review"]
    request, token = send_to_client(form)
    services.save_answer(_recipient(token), "decision", "Approved")
    version = services.add_question(form, {"type": "short_text", "label": "Anything else?"}, by=rep)
    request.refresh_from_db()
    assert version.number == 2
    assert request.form_version.number == 1
    assert "anything-else" not in [q["key"] for q in request.form_version.questions]
    # A form nobody has answered is edited in place.
    fresh = services.create_form(
        name="Quick", by=rep, definition={"questions": [{"type": "short_text", "label": "A"}]}
    )
    assert services.add_question(fresh, {"type": "short_text", "label": "B"}, by=rep).number == 1


def test_a_link_opens_only_its_own_request(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, web_pipeline: Any, rep: User
) -> None:
    mine, token = send_to_client(starter_forms["questionnaire"])
    other_client: Contact = ContactFactory(name="Other", email="other@example.com")
    other_order = OrderFactory(pipeline=web_pipeline, client=other_client, by=rep)
    theirs, _other_token = send_to_client(starter_forms["questionnaire"], target=other_order)
    recipient = _recipient(token)
    assert recipient.request == mine
    theirs_file = services.add_files(
        _recipient(_other_token), "logo", [SimpleUploadedFile("a.png", PNG, content_type="image/png")]
    )[0]
    with pytest.raises(AnswerError):
        services.save_answer(recipient, "no-such-question", "x")
    services.remove_file(recipient, theirs_file.pk)  # not this request's file: nothing happens
    assert theirs.files.count() == 1


def test_pending_requests_for_a_contact_lists_only_open_ones_sent_to_them(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order, rep: User
) -> None:
    waiting, _token = send_to_client(starter_forms["questionnaire"])
    cancelled, _other = send_to_client(starter_forms["review"])
    services.cancel_request(cancelled, by=rep)
    assert list(selectors.pending_requests_for(order.client)) == [waiting]
    assert list(selectors.pending_requests_for(ContactFactory())) == []


def test_the_owner_is_emailed_the_answers_as_plain_text(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order, rep: User
) -> None:
    _request, token = send_to_client(starter_forms["questionnaire"])
    recipient = _recipient(token)
    _fill_questionnaire(recipient)
    services.save_answer(recipient, "business-name", "<script>alert('x')</script>")
    services.submit_request(recipient)
    mail = OutboxMessage.objects.get(recipient=rep.email)
    assert "<script>alert('x')</script>" in mail.body_text  # plain text: shown as typed, never run
    assert "&lt;" not in mail.body_text
