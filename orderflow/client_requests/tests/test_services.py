"""Sending, answering and submitting requests: events, links, autosave, moves, and every refusal."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from orderflow.accounts.models import Contact, User
from orderflow.automation.models import Reminder
from orderflow.automation.reminders import start_reminders_for
from orderflow.automation.services import save_sequence
from orderflow.automation.tests.conftest import questionnaire_steps
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
    assert event.data == {
        "request": request.pk,
        "form": "Website questionnaire",
        "recipients": ["Ana Client", "Jo Spouse"],
    }
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
        lambda: services.own_form_for_request(request, by=rep),
    ):
        with pytest.raises(RequestClosedError):
            change()
    request.refresh_from_db()
    assert request.title == "Your questionnaire"
    # Sending again still works while answering is under way (a link may have expired): answers stay.
    services.resend_request(request, by=rep)
    third = token_from_outbox("ana@example.com")
    assert selectors.recipient_for_token(second) is None
    assert _recipient(third).request.answers.get().value == "Bolos"
    kinds = list(request.order.events.filter(kind__startswith="request.").values_list("kind", flat=True))
    assert kinds == [
        OrderEvent.Kind.REQUEST_SENT,
        OrderEvent.Kind.REQUEST_CHANGED,
        OrderEvent.Kind.REQUEST_SENT,
        OrderEvent.Kind.REQUEST_SENT,
    ]


def test_an_answered_or_cancelled_request_is_not_sent_again(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    answered, token = send_to_client(starter_forms["questionnaire"])
    _fill_questionnaire(_recipient(token))
    services.submit_request(_recipient(token))
    cancelled, _other = send_to_client(starter_forms["review"])
    services.cancel_request(cancelled, by=rep)
    mails = OutboxMessage.objects.count()
    for request in (answered, cancelled):
        with pytest.raises(RequestClosedError):
            services.resend_request(request, by=rep)
    assert OutboxMessage.objects.count() == mails
    assert (
        selectors.recipient_for_token(token) is not None
    )  # the answered request's link still shows the answers


def test_changing_the_due_date_moves_the_link_expiry_and_a_past_date_changes_nothing(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC), tick=False):
        request, token = send_to_client(starter_forms["questionnaire"])
        jo = services.RecipientSpec(name="Jo", email="jo@example.com")
        other = services.send_request(request.order, form=starter_forms["review"], recipients=[jo], by=rep)
        recipient = request.recipients.get()
        assert recipient.expires_at == datetime.datetime(2026, 4, 1, 10, 0, tzinfo=datetime.UTC)

        services.update_request(
            request, by=rep, title=request.title, message="", due_date=datetime.date(2026, 5, 20)
        )
        recipient.refresh_from_db()
        assert recipient.expires_at == datetime.datetime(2026, 6, 19, tzinfo=datetime.UTC)
        assert other.recipients.get().expires_at == datetime.datetime(2026, 4, 1, 10, 0, tzinfo=datetime.UTC)

        events = request.order.events.count()
        with pytest.raises(services.RequestError) as refused:
            services.update_request(
                request, by=rep, title="Changed", message="Changed", due_date=datetime.date(2026, 3, 1)
            )
        assert refused.value.message == "The due date is in the past."
        request.refresh_from_db()
        recipient.refresh_from_db()
        assert (request.title, request.message, request.due_date) == (
            "Website questionnaire",
            "",
            datetime.date(2026, 5, 20),
        )
        assert recipient.expires_at == datetime.datetime(2026, 6, 19, tzinfo=datetime.UTC)
        assert request.order.events.count() == events

    # Sixty days on, the link still works: it follows the due date, not the day it was sent.
    with time_machine.travel(datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC)):
        assert selectors.recipient_for_token(token) is not None


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
    reopened = token_from_outbox("ana@example.com")
    services.save_answer(_recipient(reopened), "style", "Classic")
    second = services.submit_request(_recipient(reopened))
    assert second.number == 2
    assert second.answers["style"] == "Classic"


def test_reopening_after_the_link_expired_emails_the_recipient_a_working_link(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    sent_at = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(sent_at, tick=False):
        request, token = send_to_client(starter_forms["questionnaire"])
        _fill_questionnaire(_recipient(token))
        services.submit_request(_recipient(token))
    with time_machine.travel(sent_at + datetime.timedelta(days=45), tick=False):
        assert selectors.recipient_for_token(token) is None  # expired
        services.reopen_request(request, by=rep)
        mail = OutboxMessage.objects.filter(recipient="ana@example.com").latest("id")
        assert "you can change your answers" in mail.subject
        assert "reopened" in mail.body_text
        new_token = token_from_outbox("ana@example.com")
        recipient = _recipient(new_token)
        assert recipient.expires_at == sent_at + datetime.timedelta(days=45 + services.LINK_DAYS)
        services.save_answer(recipient, "style", "Playful")
        assert services.submit_request(_recipient(new_token)).answers["style"] == "Playful"
    event = request.order.events.get(kind=OrderEvent.Kind.REQUEST_REOPENED)
    assert event.data == {"request": request.pk, "recipients": ["Ana Client"]}


def test_only_an_answered_request_is_reopened(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    mails = OutboxMessage.objects.count()
    with pytest.raises(services.RequestError):
        services.reopen_request(request, by=rep)
    request.refresh_from_db()
    assert request.status == ClientRequest.Status.PENDING
    assert OutboxMessage.objects.count() == mails
    assert selectors.recipient_for_token(token) is not None


def test_editing_one_requests_questions_changes_that_request_only(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order, rep: User, web_pipeline: Any
) -> None:
    library = starter_forms["review"]
    mine, _token = send_to_client(library)
    other_order = OrderFactory(pipeline=web_pipeline, client=ContactFactory(email="bo@example.com"), by=rep)
    theirs, _other_token = send_to_client(library, target=other_order)
    before = library.latest_version.definition

    own = services.own_form_for_request(mine, by=rep)
    assert services.own_form_for_request(mine, by=rep) == own  # one copy per request
    services.add_question(own, {"type": "short_text", "label": "Anything else?"}, by=rep)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    library = FormTemplate.objects.get(pk=library.pk)
    assert "anything-else" in [q["key"] for q in mine.form_version.questions]
    assert "anything-else" not in [q["key"] for q in theirs.form_version.questions]
    assert library.latest_version.definition == before
    assert library.versions.count() == 1
    assert own not in selectors.form_library()
    assert own not in selectors.forms_to_send(order)
    changed = order.events.get(kind=OrderEvent.Kind.REQUEST_CHANGED)
    assert changed.data == {"request": mine.pk, "questions": True}
    assert changed.message == "Design review: question “Anything else?” added"
    assert not other_order.events.filter(kind=OrderEvent.Kind.REQUEST_CHANGED).exists()


def test_a_requests_own_questions_stop_changing_once_someone_answers(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    request, token = send_to_client(starter_forms["review"])
    own = services.own_form_for_request(request, by=rep)
    services.save_answer(_recipient(token), "decision", "Approved")
    with pytest.raises(RequestClosedError):
        services.add_question(own, {"type": "short_text", "label": "Late question"}, by=rep)
    request.refresh_from_db()
    assert [q["key"] for q in request.form_version.questions] == ["decision", "revisions", "rating"]
    assert not request.order.events.filter(kind=OrderEvent.Kind.REQUEST_CHANGED).exists()


def test_editing_a_library_form_after_sending_leaves_waiting_requests_as_sent(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    form = starter_forms["review"]
    request, _token = send_to_client(form)
    version = services.add_question(form, {"type": "short_text", "label": "Anything else?"}, by=rep)
    request.refresh_from_db()
    assert version.number == 2
    assert request.form_version.number == 1
    assert request.status == ClientRequest.Status.PENDING


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


def test_a_reminder_sequence_for_one_form_starts_for_its_requests_only_also_when_edited_and_sent_again(
    starter_forms: dict[str, FormTemplate], order: Order, rep: User
) -> None:
    sequence = save_sequence(
        order.pipeline,
        {
            "key": "questionnaire-only",
            "name": "Questionnaire only",
            "start": "request.sent",
            "form": "Website questionnaire",
            "steps": questionnaire_steps(),
        },
    )
    to_client = [services.RecipientSpec(name="Ana Client", email="ana@example.com", contact=order.client)]
    review = services.send_request(order, form=starter_forms["review"], recipients=to_client, by=rep)
    questionnaire = services.send_request(
        order, form=starter_forms["questionnaire"], recipients=to_client, by=rep
    )
    for event in order.events.filter(kind=OrderEvent.Kind.REQUEST_SENT):
        start_reminders_for(event)
    assert [r.awaited_id for r in Reminder.objects.filter(sequence=sequence)] == [str(questionnaire.pk)]

    # Staff edit the review's questions (the request gets its own copy) and send it again: still not
    # the questionnaire, so still no reminders; the event names the form it came from.
    services.own_form_for_request(review, by=rep)
    services.resend_request(review, by=rep)
    resent = order.events.filter(kind=OrderEvent.Kind.REQUEST_SENT).latest("id")
    assert resent.data["form"] == starter_forms["review"].name
    assert start_reminders_for(resent) == []
