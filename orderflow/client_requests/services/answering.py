"""Answering through a link: per-question autosave, files checked by content, submitting and the move it makes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, Organisation
from orderflow.client_requests.definitions import (
    FILE_KINDS,
    AnswerError,
    QuestionType,
    SavesTo,
    clean_answer,
    display_answer,
    is_blank,
    is_visible,
    missing_answers,
    parse_time,
    setting_value,
    sniff_file_kind,
)
from orderflow.client_requests.models import (
    Answer,
    AnswerFile,
    ClientRequest,
    Recipient,
    Submission,
)
from orderflow.client_requests.services.sending import RequestClosedError, lock_request
from orderflow.errors import DomainError
from orderflow.notifications.models import Channel, PreferenceChange
from orderflow.notifications.preferences import PreferenceError, update_contact_preferences
from orderflow.notifications.services import queue_email
from orderflow.pipelines.models import Order, OrderEvent
from orderflow.pipelines.services import StageGuardError, move_order, record_event


class SubmissionIncomplete(DomainError):
    """Submitting found unanswered or wrong answers; `errors` maps question keys to messages."""

    code = "submission_incomplete"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_("Some answers are missing. They are marked below."))
        self.errors = errors


def _lock_for_answering(recipient: Recipient) -> ClientRequest:
    locked = lock_request(recipient.request)
    if not locked.is_open:
        raise RequestClosedError(_("These answers were already sent and can no longer be changed."))
    return locked


def _question(request: ClientRequest, key: str) -> dict[str, Any]:
    question = next((q for q in request.form_version.questions if q["key"] == key), None)
    if question is None or question["type"] == QuestionType.INFO:
        raise AnswerError(_("This question is no longer part of the form."), code="answer_unknown_question")
    return question


def _mark_started(request: ClientRequest) -> None:
    if request.status == ClientRequest.Status.PENDING:
        request.status = ClientRequest.Status.STARTED
        request.save(update_fields=["status", "updated_at"])


@transaction.atomic
def save_answer(recipient: Recipient, key: str, raw: str | list[str]) -> Answer:
    """Save one answer as the person types. Only this question's row changes, so other tabs lose nothing.

    A wrong value raises AnswerError and leaves the saved answer as it was.
    """
    request = _lock_for_answering(recipient)
    question = _question(request, key)
    if question["type"] == QuestionType.FILE:
        raise AnswerError(_("Upload a file for this question."))
    value = clean_answer(question, raw)
    answer, _created = Answer.objects.update_or_create(
        request=request, question_key=key, defaults={"value": value, "updated_by": recipient}
    )
    _mark_started(request)
    return answer


def _file_kind(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    return sniff_file_kind(head)


@transaction.atomic
def add_files(recipient: Recipient, key: str, uploads: Sequence[UploadedFile]) -> list[AnswerFile]:
    """Keep uploaded files for a file question after checking count, size and type (by content).

    One refused file refuses the whole batch with a message; other answers are untouched.
    """
    request = _lock_for_answering(recipient)
    question = _question(request, key)
    if question["type"] != QuestionType.FILE:
        raise AnswerError(_("This question takes no files."))
    if not uploads:
        raise AnswerError(_("Choose a file."))
    existing = request.files.filter(question_key=key).count()
    max_files = question.get("max_files", 1)
    if max_files > 1 and existing + len(uploads) > max_files:
        raise AnswerError(_("You can add at most %(count)s files here.") % {"count": max_files})
    if max_files == 1 and len(uploads) > 1:
        raise AnswerError(_("You can add one file here."))
    limit = question.get("max_size_mb", 10) * 1024 * 1024
    allowed = question.get("file_types") or []
    checked: list[tuple[UploadedFile, str]] = []
    for upload in uploads:
        name = (upload.name or "file").rsplit("/", 1)[-1][:200]
        if (upload.size or 0) > limit:
            raise AnswerError(
                _("“%(name)s” is larger than %(size)s MB.")
                % {"name": name, "size": question.get("max_size_mb", 10)},
                code="file_too_large",
            )
        kind = _file_kind(upload)
        if kind is None or kind not in allowed:
            names = ", ".join(str(FILE_KINDS[k][1]) for k in allowed)
            raise AnswerError(
                _("“%(name)s” is not an allowed type of file. Allowed: %(types)s.")
                % {"name": name, "types": names},
                code="file_type",
            )
        checked.append((upload, kind))
    if max_files == 1:
        for old in request.files.filter(question_key=key):
            old.file.delete(save=False)
            old.delete()
    saved = []
    for upload, kind in checked:
        saved.append(
            AnswerFile.objects.create(
                request=request,
                question_key=key,
                file=upload,
                original_name=(upload.name or "file").rsplit("/", 1)[-1][:200],
                content_type=FILE_KINDS[kind][0],
                size=upload.size or 0,
                uploaded_by=recipient,
            )
        )
    _mark_started(request)
    return saved


@transaction.atomic
def remove_file(recipient: Recipient, file_id: int) -> None:
    request = _lock_for_answering(recipient)
    answer_file = request.files.filter(pk=file_id).first()
    if answer_file is not None:
        answer_file.file.delete(save=False)
        answer_file.delete()


@transaction.atomic
def submit_request(recipient: Recipient) -> Submission:
    """Send the answers in. A second submit (double click, two tabs) returns the first submission.

    Checks every visible required question; raises SubmissionIncomplete with an error per question.
    Records REQUEST_SUBMITTED, e-mails the order's owner and moves the order as the form says; a move
    the pipeline refuses is recorded on the timeline and the answers stay submitted.
    """
    request = lock_request(recipient.request)
    if request.status == ClientRequest.Status.SUBMITTED:
        submission = request.submissions.order_by("-number").first()
        if submission is not None:
            return submission
    if not request.is_open:
        raise RequestClosedError(_("This request can no longer be answered."))
    questions = request.form_version.questions
    answers = dict(request.answers.values_list("question_key", "value"))
    file_counts: dict[str, int] = {}
    for key in request.files.values_list("question_key", flat=True):
        file_counts[key] = file_counts.get(key, 0) + 1
    errors = missing_answers(questions, answers, file_counts)
    if errors:
        raise SubmissionIncomplete(errors)
    snapshot = {
        q["key"]: answers.get(q["key"])
        for q in questions
        if q["type"] not in {QuestionType.INFO, QuestionType.FILE} and is_visible(q, answers)
    }
    if recipient.is_client:
        _save_client_settings(request, snapshot)
    request.submission_count += 1
    submission = Submission.objects.create(
        request=request, number=request.submission_count, recipient=recipient, answers=snapshot
    )
    request.status = ClientRequest.Status.SUBMITTED
    request.submitted_at = submission.submitted_at
    request.save(update_fields=["status", "submission_count", "submitted_at", "updated_at"])
    record_event(
        request.order,
        OrderEvent.Kind.REQUEST_SUBMITTED,
        by=None,
        audience=OrderEvent.Audience.CLIENT,
        message=request.title,
        data={
            "request": request.pk,
            "form": request.form_name(),
            "submission": submission.number,
            "recipient": recipient.name,
        },
    )
    _email_owner(request, submission)
    _move_after_submission(request, snapshot)
    return submission


# Which question to show a refusal of the preferences service at, by the contact field it names.
_REFUSED_SETTING = {
    "channels": [SavesTo.CHANNEL],
    "phone": [SavesTo.PHONE, SavesTo.CHANNEL],
    "delivery_window_start": [SavesTo.WINDOW_START, SavesTo.WINDOW_END],
    "delivery_window_end": [SavesTo.WINDOW_END, SavesTo.WINDOW_START],
    "time_zone": [SavesTo.TIME_ZONE],
    "language": [SavesTo.LANGUAGE],
}


def _save_client_settings(request: ClientRequest, answers: dict[str, Any]) -> None:
    """The order's client's answers to questions that fill a setting become their message settings,
    through update_contact_preferences (recorded as changed on a form); what they left unanswered
    stays as it was. A refusal is shown at its question and, raised inside the submission's
    transaction, leaves nothing submitted and nothing changed."""
    filled: dict[str, tuple[str, Any]] = {}
    for question in request.form_version.questions:
        if (saves_to := question.get("saves_to")) and not is_blank(answers.get(question["key"])):
            filled[saves_to] = (question["key"], answers[question["key"]])
    if not filled:
        return
    contact = Contact.objects.get(pk=request.order.client_id)
    values = {saves_to: value for saves_to, (_key, value) in filled.items()}
    channels = list(contact.channels or [])
    opted_out = list(contact.opted_out_channels or [])
    if channel := setting_value(SavesTo.CHANNEL, str(values.get(SavesTo.CHANNEL) or "")):
        current = channels or [contact.preferred_channel, Channel.EMAIL]
        channels = [channel, *[other for other in current if other != channel]]
        opted_out = [other for other in opted_out if other != channel]
    window = {
        name: parse_time(str(values[name])) if name in values else None
        for name in (SavesTo.WINDOW_START, SavesTo.WINDOW_END)
    }
    no_offers = values.get(SavesTo.NO_OFFERS)
    try:
        update_contact_preferences(
            contact,
            by=None,
            source=PreferenceChange.Source.FORM,
            channels=channels,
            opted_out_channels=opted_out,
            phone=str(values[SavesTo.PHONE]) if SavesTo.PHONE in values else None,
            messenger_id=None,
            window_start=window[SavesTo.WINDOW_START] or contact.delivery_window_start,
            window_end=window[SavesTo.WINDOW_END] or contact.delivery_window_end,
            days=list(contact.delivery_days),
            marketing_opt_out=contact.marketing_opt_out if no_offers is None else no_offers == "yes",
            time_zone=str(values[SavesTo.TIME_ZONE]) if SavesTo.TIME_ZONE in values else None,
            language=setting_value(SavesTo.LANGUAGE, str(values.get(SavesTo.LANGUAGE) or "")),
        )
    except PreferenceError as error:
        at = next(
            (filled[name][0] for name in _REFUSED_SETTING.get(error.field, []) if name in filled),
            next(iter(filled.values()))[0],
        )
        raise SubmissionIncomplete({at: _refusal_for_client(error)}) from None


def _refusal_for_client(error: PreferenceError) -> str:
    """The preferences service speaks to staff about "the client"; the client reads about themselves."""
    refusals = {
        "phone_missing": _("Enter a phone number in international form to get SMS, like +351 912 345 678."),
        "window_empty": _("Your hours must end after they start on the same day, e.g. 09:00 to 21:00."),
        "no_channel": _("Keep at least one way we may contact you."),
    }
    return str(refusals.get(error.code, error.message))


def _move_after_submission(request: ClientRequest, answers: dict[str, Any]) -> None:
    moves = request.form_version.moves
    target = None
    if moves.get("question"):
        target = (moves.get("values") or {}).get(str(answers.get(moves["question"])))
    target = target or moves.get("on_submit")
    if not target:
        return
    order = Order.objects.select_related("stage", "pipeline").get(pk=request.order_id)
    stage = order.pipeline.stages.filter(key=target).first()
    with translation.override(Organisation.current().language):
        reason = _("Answers to “%(title)s”") % {"title": request.title}
        try:
            if stage is None:
                raise StageGuardError(
                    _("The pipeline has no stage “%(key)s”.") % {"key": target}, code="stage_missing"
                )
            with transaction.atomic():
                move_order(order, stage, by=None, reason=reason)
        except StageGuardError as error:
            record_event(
                order,
                OrderEvent.Kind.RULE_ACTED,
                by=None,
                message=_("The answers to “%(title)s” could not move the order: %(reason)s")
                % {"title": request.title, "reason": error.message},
                data={"request": request.pk, "refused_stage": target, "code": error.code},
            )


def _email_owner(request: ClientRequest, submission: Submission) -> None:
    owner = request.order.owner
    if owner is None or not owner.email:
        return
    questions = {q["key"]: q for q in request.form_version.questions}
    with translation.override(owner.language):
        rows = [
            (questions[key]["label"], display_answer(questions[key], value))
            for key, value in submission.answers.items()
            if key in questions
        ]
        context = {
            "request": request,
            "order": request.order,
            "rows": rows,
            "recipient_name": submission.recipient.name if submission.recipient else "",
            "file_count": request.files.count(),
        }
        subject = render_to_string("client_requests/email/submitted_subject.txt", context).strip()
        body = render_to_string("client_requests/email/submitted.txt", context)
    queue_email(
        key=f"client-request:{request.pk}:submission:{submission.number}:owner",
        recipient=owner.email,
        subject=subject,
        body_text=body,
        language=owner.language,
        order_id=request.order_id,
    )


def note_opened(recipient: Recipient) -> None:
    """Remember when the recipient last opened their link (staff see it next to the request)."""
    Recipient.objects.filter(pk=recipient.pk).update(last_opened_at=timezone.now())
