"""Every write to forms, client requests and their answers goes through these functions."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, Organisation, User
from orderflow.client_requests.definitions import (
    FILE_KINDS,
    AnswerError,
    FormDefinitionError,
    QuestionType,
    clean_answer,
    clean_definition,
    display_answer,
    is_visible,
    missing_answers,
    sniff_file_kind,
)
from orderflow.client_requests.models import (
    Answer,
    AnswerFile,
    ClientRequest,
    FormTemplate,
    FormVersion,
    Recipient,
    Submission,
)
from orderflow.errors import DomainError
from orderflow.notifications.services import queue_email
from orderflow.pipelines.models import Order, OrderEvent
from orderflow.pipelines.services import StageGuardError, move_order, record_event

LINK_DAYS = 30


class RequestError(DomainError):
    code = "request_invalid"


class RequestClosedError(DomainError):
    """The request was submitted or cancelled: answers can no longer change."""

    code = "request_closed"


class SubmissionIncomplete(DomainError):
    """Submitting found unanswered or wrong answers; `errors` maps question keys to messages."""

    code = "submission_incomplete"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_("Some answers are missing. They are marked below."))
        self.errors = errors


# --- Forms ---------------------------------------------------------------------------------------


@transaction.atomic
def create_form(
    *,
    name: str,
    by: User | None,
    definition: dict[str, Any] | None = None,
    order: Order | None = None,
    description: str = "",
) -> FormTemplate:
    """A new form with version 1. With `order`, an ad-hoc form for that order, outside the library."""
    name = name.strip()
    if not name:
        raise FormDefinitionError(_("Give the form a name."))
    form = FormTemplate.objects.create(
        name=name[:200],
        description=description.strip()[:500],
        is_template=order is None,
        order=order,
        created_by=by,
    )
    FormVersion.objects.create(form=form, number=1, definition=clean_definition(definition or {}))
    return form


def is_version_frozen(version: FormVersion) -> bool:
    """A version someone started answering (or that was submitted or cancelled) never changes again."""
    return version.pk is not None and version.requests.exclude(status=ClientRequest.Status.PENDING).exists()


@transaction.atomic
def save_definition(form: FormTemplate, definition: dict[str, Any], *, by: User | None) -> FormVersion:
    """Store a new definition: in place while no answer depends on the latest version, else as a new version.

    Requests nobody has started answering follow the edit (their questions may still change);
    answered ones keep the version they answered.
    """
    FormTemplate.objects.select_for_update().get(pk=form.pk)
    cleaned = clean_definition(definition)
    latest = form.versions.order_by("-number").first()
    if latest is not None and not is_version_frozen(latest):
        latest.definition = cleaned
        latest.save(update_fields=["definition"])
        version = latest
    else:
        version = FormVersion.objects.create(
            form=form, number=(latest.number + 1 if latest else 1), definition=cleaned
        )
        if latest is not None:
            # Requests still waiting for a first answer move to the new questions.
            ClientRequest.objects.filter(form_version__form=form, status=ClientRequest.Status.PENDING).update(
                form_version=version
            )
    form.__dict__.pop("latest_version", None)
    return version


def _definition(form: FormTemplate) -> dict[str, Any]:
    version = form.versions.order_by("-number").first()
    return dict(version.definition) if version else {"questions": [], "moves": {}}


def add_question(form: FormTemplate, question: dict[str, Any], *, by: User | None) -> FormVersion:
    definition = _definition(form)
    definition["questions"] = [
        *definition.get("questions", []),
        {**question, "key": question.get("key") or ""},
    ]
    return save_definition(form, definition, by=by)


def replace_question(
    form: FormTemplate, key: str, question: dict[str, Any], *, by: User | None
) -> FormVersion:
    """Change question `key` in place; its key stays, so earlier answers still match it."""
    definition = _definition(form)
    questions = definition.get("questions", [])
    if not any(q["key"] == key for q in questions):
        raise FormDefinitionError(_("That question no longer exists."))
    definition["questions"] = [{**question, "key": key} if q["key"] == key else q for q in questions]
    return save_definition(form, definition, by=by)


def remove_question(form: FormTemplate, key: str, *, by: User | None) -> FormVersion:
    definition = _definition(form)
    questions = [q for q in definition.get("questions", []) if q["key"] != key]
    for question in questions:
        if (question.get("show_if") or {}).get("question") == key:
            question.pop("show_if")
    moves = definition.get("moves") or {}
    if moves.get("question") == key:
        moves.pop("question", None)
        moves.pop("values", None)
    definition["questions"] = questions
    return save_definition(form, definition, by=by)


def reorder_questions(form: FormTemplate, keys: Sequence[str], *, by: User | None) -> FormVersion:
    """Put the questions in the order of `keys` (unknown keys ignored, missing ones keep their place at the end)."""
    definition = _definition(form)
    questions = definition.get("questions", [])
    rank = {key: index for index, key in enumerate(keys)}
    definition["questions"] = sorted(questions, key=lambda q: rank.get(q["key"], len(rank)))
    try:
        return save_definition(form, definition, by=by)
    except FormDefinitionError:
        raise FormDefinitionError(_("A question that depends on another must stay below it.")) from None


def shift_question(form: FormTemplate, key: str, direction: str, *, by: User | None) -> FormVersion:
    keys = [q["key"] for q in _definition(form).get("questions", [])]
    if key not in keys:
        raise FormDefinitionError(_("That question no longer exists."))
    index = keys.index(key)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(keys):
        keys[index], keys[other] = keys[other], keys[index]
    return reorder_questions(form, keys, by=by)


def save_moves(form: FormTemplate, moves: dict[str, Any], *, by: User | None) -> FormVersion:
    definition = _definition(form)
    definition["moves"] = moves
    return save_definition(form, definition, by=by)


@transaction.atomic
def save_as_template(request: ClientRequest, *, name: str, by: User | None) -> FormTemplate:
    """Copy a request's questions into a new library form."""
    return create_form(name=name or request.title, by=by, definition=request.form_version.definition)


# --- Sending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientSpec:
    """Someone to send a request to: the order's client (with `contact`) or a third party."""

    name: str
    email: str
    language: str = "en"
    contact: Contact | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _hash(token)


def link_for(token: str) -> str:
    return settings.BASE_URL.rstrip("/") + reverse("client_requests:respond", args=[token])


def _expiry(due_date: datetime.date | None) -> datetime.datetime:
    expires = timezone.now() + datetime.timedelta(days=LINK_DAYS)
    if due_date is not None:
        after_due = datetime.datetime.combine(
            due_date + datetime.timedelta(days=LINK_DAYS), datetime.time(), tzinfo=datetime.UTC
        )
        expires = max(expires, after_due)
    return expires


def _email_recipient(recipient: Recipient, token: str, *, key: str) -> None:
    request = recipient.request
    order = request.order
    with translation.override(recipient.language):
        context = {
            "recipient": recipient,
            "request": request,
            "link": link_for(token),
            "organisation_name": Organisation.current().name,
            "order_reference": order.reference,
        }
        subject = render_to_string("client_requests/email/request_subject.txt", context).strip()
        body = render_to_string("client_requests/email/request.txt", context)
    queue_email(
        key=key,
        recipient=recipient.email,
        subject=subject,
        body_text=body,
        language=recipient.language,
        contact=recipient.contact,
        order_id=order.pk,
    )


@transaction.atomic
def send_request(
    order: Order,
    *,
    form: FormTemplate,
    recipients: Sequence[RecipientSpec],
    by: User | None,
    message: str = "",
    due_date: datetime.date | None = None,
    title: str = "",
) -> ClientRequest:
    """Send the latest version of `form` for `order` to each recipient, each with a link of their own.

    Records a REQUEST_SENT event; the e-mails leave after commit. The links are in the e-mails only:
    the database keeps their hashes.
    """
    if not recipients:
        raise RequestError(_("Choose at least one recipient."), code="request_no_recipient")
    emails = [spec.email.strip().lower() for spec in recipients]
    if any(not email for email in emails):
        raise RequestError(_("Every recipient needs an e-mail address."), code="request_no_email")
    if len(set(emails)) != len(emails):
        raise RequestError(_("A recipient is listed twice."), code="request_duplicate_recipient")
    version = form.versions.order_by("-number").first()
    if version is None or not [q for q in version.questions if q["type"] != QuestionType.INFO]:
        raise RequestError(_("Add at least one question before sending."), code="request_no_questions")
    if due_date is not None and due_date < timezone.localdate():
        raise RequestError(_("The due date is in the past."), code="request_due_past")
    request = ClientRequest.objects.create(
        order=order,
        form_version=version,
        title=(title.strip() or form.name)[:200],
        message=message.strip(),
        due_date=due_date,
        created_by=by,
    )
    sent: list[str] = []
    for spec in recipients:
        token, digest = _new_token()
        recipient = Recipient.objects.create(
            request=request,
            contact=spec.contact,
            name=spec.name.strip()[:200] or spec.email,
            email=spec.email.strip(),
            language=spec.language if spec.language in dict(settings.LANGUAGES) else "en",
            token_hash=digest,
            expires_at=_expiry(due_date),
        )
        _email_recipient(
            recipient, token, key=f"client-request:{request.pk}:recipient:{recipient.pk}:{digest[:12]}"
        )
        sent.append(recipient.name)
    record_event(
        order,
        OrderEvent.Kind.REQUEST_SENT,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=request.title,
        data={"request": request.pk, "recipients": sent},
    )
    return request


def _lock(request: ClientRequest) -> ClientRequest:
    return (
        ClientRequest.objects.select_for_update().select_related("order", "form_version").get(pk=request.pk)
    )


def _require_editable(request: ClientRequest) -> None:
    if request.status != ClientRequest.Status.PENDING:
        raise RequestClosedError(
            _("Someone has started answering, so the request can no longer change."), code="request_started"
        )


@transaction.atomic
def update_request(
    request: ClientRequest,
    *,
    by: User | None,
    title: str,
    message: str,
    due_date: datetime.date | None,
) -> ClientRequest:
    """Change the title, message or due date while nobody has started answering."""
    locked = _lock(request)
    _require_editable(locked)
    if not title.strip():
        raise RequestError(_("Give the request a title."), code="request_no_title")
    locked.title, locked.message, locked.due_date = title.strip()[:200], message.strip(), due_date
    locked.save(update_fields=["title", "message", "due_date", "updated_at"])
    record_event(
        locked.order,
        OrderEvent.Kind.REQUEST_CHANGED,
        by=by,
        message=locked.title,
        data={"request": locked.pk},
    )
    return locked


@transaction.atomic
def cancel_request(request: ClientRequest, *, by: User | None) -> ClientRequest:
    """Withdraw a request nobody has started answering; its links stop working."""
    locked = _lock(request)
    _require_editable(locked)
    locked.status = ClientRequest.Status.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    record_event(
        locked.order,
        OrderEvent.Kind.REQUEST_CANCELLED,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=locked.title,
        data={"request": locked.pk},
    )
    return locked


@transaction.atomic
def resend_request(request: ClientRequest, *, by: User | None) -> ClientRequest:
    """E-mail every recipient whose link is not revoked a fresh link; the old links stop working."""
    locked = _lock(request)
    _require_editable(locked)
    names = []
    for recipient in locked.recipients.filter(revoked_at__isnull=True):
        token, digest = _new_token()
        recipient.token_hash = digest
        recipient.expires_at = _expiry(locked.due_date)
        recipient.save(update_fields=["token_hash", "expires_at"])
        _email_recipient(
            recipient, token, key=f"client-request:{locked.pk}:recipient:{recipient.pk}:{digest[:12]}"
        )
        names.append(recipient.name)
    if not names:
        raise RequestError(_("Every link of this request is revoked."), code="request_all_revoked")
    record_event(
        locked.order,
        OrderEvent.Kind.REQUEST_SENT,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=_("Sent again: %(title)s") % {"title": locked.title},
        data={"request": locked.pk, "recipients": names, "resent": True},
    )
    return locked


@transaction.atomic
def revoke_recipient(recipient: Recipient, *, by: User | None) -> Recipient:
    """Make one recipient's link stop working at once (idempotent)."""
    locked = Recipient.objects.select_for_update().select_related("request__order").get(pk=recipient.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(
            locked.request.order,
            OrderEvent.Kind.REQUEST_CHANGED,
            by=by,
            message=_("Link revoked for %(name)s") % {"name": locked.name},
            data={"request": locked.request_id, "revoked": locked.pk},
        )
    return locked


@transaction.atomic
def reopen_request(request: ClientRequest, *, by: User | None) -> ClientRequest:
    """Let the recipients change their answers again after they submitted."""
    locked = _lock(request)
    if locked.status != ClientRequest.Status.SUBMITTED:
        raise RequestError(_("Only an answered request can be reopened."), code="request_not_submitted")
    locked.status = ClientRequest.Status.STARTED
    locked.save(update_fields=["status", "updated_at"])
    record_event(
        locked.order,
        OrderEvent.Kind.REQUEST_REOPENED,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=locked.title,
        data={"request": locked.pk},
    )
    return locked


# --- Answering -----------------------------------------------------------------------------------


def _lock_for_answering(recipient: Recipient) -> ClientRequest:
    locked = _lock(recipient.request)
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
    request = _lock(recipient.request)
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
        data={"request": request.pk, "submission": submission.number, "recipient": recipient.name},
    )
    _email_owner(request, submission)
    _move_after_submission(request, snapshot)
    return submission


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


@transaction.atomic
def install_starter_forms(*, by: User | None) -> list[FormTemplate]:
    """Add the seed forms (website questionnaire, design review) to the library unless a form has their name."""
    from orderflow.client_requests.starter_forms import STARTER_FORMS

    installed = []
    for starter in STARTER_FORMS:
        form = FormTemplate.objects.filter(is_template=True, name=starter["name"]).first()
        if form is None:
            form = create_form(
                name=starter["name"],
                description=starter["description"],
                definition=starter["definition"],
                by=by,
            )
        installed.append(form)
    return installed
