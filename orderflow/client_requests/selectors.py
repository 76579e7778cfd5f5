"""Reads of forms, requests and answers, with joins done here; who may open what is decided here too."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from orderflow.accounts.models import Contact, User
from orderflow.client_requests.definitions import QuestionType, display_answer, is_visible
from orderflow.client_requests.models import (
    AnswerFile,
    ClientRequest,
    FormTemplate,
    Recipient,
)
from orderflow.pipelines.models import Order
from orderflow.pipelines.selectors import active_pipelines

TOKEN_MAX_LENGTH = 100
OPEN_STATUSES = (ClientRequest.Status.PENDING, ClientRequest.Status.STARTED)


def recipient_for_token(token: str) -> Recipient | None:
    """The recipient whose link this is, or None for a tampered, expired or revoked link or a cancelled request.

    The token itself is never stored: it is looked up by its SHA-256. Callers must answer every None
    the same way, so a link reveals nothing about why it does not work.
    """
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    recipient = (
        Recipient.objects.select_related("request__form_version", "request__order", "contact")
        .filter(token_hash=digest)
        .first()
    )
    if recipient is None or recipient.revoked_at is not None or recipient.expires_at <= timezone.now():
        return None
    if recipient.request.status == ClientRequest.Status.CANCELLED:
        return None
    return recipient


def form_library() -> QuerySet[FormTemplate]:
    """Library forms with how many requests used them."""
    return (
        FormTemplate.objects.filter(is_template=True)
        .annotate(request_count=Count("versions__requests"))
        .order_by("name", "id")
    )


def forms_to_send(order: Order) -> QuerySet[FormTemplate]:
    """Library forms and the ad-hoc forms built for this order (not one request's own copy of its questions)."""
    return FormTemplate.objects.filter(
        Q(is_template=True) | Q(order=order, client_request__isnull=True)
    ).order_by("-is_template", "name", "id")


def stage_keys_for(form: FormTemplate) -> set[str]:
    """Stage keys a form's moves may name: its order's pipeline's for an ad-hoc form or a request's own
    copy, else those of every active pipeline (a library form may be sent for an order of any)."""
    if form.order_id is not None:
        keys = Order.objects.filter(pk=form.order_id).values_list("pipeline__stages__key", flat=True)
        return {key for key in keys if key}
    return {key for key in active_pipelines().values_list("stages__key", flat=True) if key}


def requests_for_order(order: Order) -> QuerySet[ClientRequest]:
    """An order's requests, newest first, with recipients, form and files loaded for the card."""
    return (
        ClientRequest.objects.filter(order=order)
        .select_related("form_version__form", "order")
        .prefetch_related("recipients", "answers", "files", "submissions")
        .order_by("-sent_at", "-id")
    )


def pending_requests(*, user: User) -> QuerySet[ClientRequest]:
    """Requests still waiting for answers, oldest first (the longest waiting need a nudge)."""
    if not user.has_perm("pipelines.view_order"):
        return ClientRequest.objects.none()
    return (
        ClientRequest.objects.filter(status__in=OPEN_STATUSES)
        .select_related("order__pipeline", "order__client", "order__stage")
        .prefetch_related("recipients")
        .order_by("sent_at", "id")
    )


def pending_requests_for(contact: Contact) -> QuerySet[ClientRequest]:
    """Requests waiting for this contact's answer (sent to them by e-mail), oldest first, for the portal."""
    return (
        ClientRequest.objects.filter(
            status__in=OPEN_STATUSES, recipients__contact=contact, recipients__revoked_at__isnull=True
        )
        .select_related("order")
        .distinct()
        .order_by("sent_at", "id")
    )


def staff_request(pk: int, *, user: User) -> ClientRequest:
    """One request for staff (ClientRequest.DoesNotExist when not theirs to see)."""
    if not user.has_perm("pipelines.view_order"):
        raise ClientRequest.DoesNotExist
    return (
        ClientRequest.objects.select_related("order__pipeline", "order__client", "form_version__form")
        .prefetch_related(
            "recipients", "answers", Prefetch("files", queryset=AnswerFile.objects.order_by("id"))
        )
        .get(pk=pk)
    )


@dataclass
class AnswerRow:
    """One question with its answer, ready to show (text only: templates escape it)."""

    question: dict[str, Any]
    text: str = ""
    files: list[AnswerFile] = field(default_factory=list)

    @property
    def is_info(self) -> bool:
        return self.question["type"] == QuestionType.INFO

    @property
    def is_file(self) -> bool:
        return self.question["type"] == QuestionType.FILE

    @property
    def is_long(self) -> bool:
        return self.question["type"] == QuestionType.LONG_TEXT


def answer_rows(request: ClientRequest) -> list[AnswerRow]:
    """The request's visible questions in order with their current answers and files.

    Uses the prefetched answers and files when there are any, so a list of requests costs no query per row.
    """
    answers = {answer.question_key: answer.value for answer in request.answers.all()}
    files: dict[str, list[AnswerFile]] = {}
    for answer_file in request.files.all():
        files.setdefault(answer_file.question_key, []).append(answer_file)
    rows = []
    for question in request.form_version.questions:
        if question["type"] == QuestionType.INFO or not is_visible(question, answers):
            continue
        rows.append(
            AnswerRow(
                question=question,
                text=display_answer(question, answers.get(question["key"])),
                files=files.get(question["key"], []),
            )
        )
    return rows


def answer_file_for_staff(pk: int, *, user: User) -> AnswerFile:
    """An uploaded file, for staff who may see orders only (AnswerFile.DoesNotExist otherwise)."""
    if not user.is_active or not user.has_perm("pipelines.view_order"):
        raise AnswerFile.DoesNotExist
    return AnswerFile.objects.select_related("request").get(pk=pk)
