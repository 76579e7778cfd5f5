"""The recipient's pages behind their secret link: no login, one request, nothing else of the order."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from orderflow.accounts.models import Organisation
from orderflow.client_requests import selectors, services
from orderflow.client_requests.definitions import (
    QuestionType,
    display_answer,
    is_visible,
    localize_question,
    localize_title,
)
from orderflow.client_requests.models import Recipient
from orderflow.errors import DomainError

RecipientView = Callable[..., HttpResponse]


def link_invalid(request: HttpRequest) -> HttpResponse:
    """One page for every link that does not work (tampered, expired, revoked, cancelled): it tells nothing more."""
    return render(request, "client_requests/link_invalid.html", status=404)


def with_recipient(view: RecipientView) -> Callable[..., HttpResponse]:
    """Resolve the token to its recipient (or the same 'link does not work' page) and speak their language."""

    @wraps(view)
    def wrapped(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        recipient = selectors.recipient_for_token(token)
        if recipient is None:
            return link_invalid(request)
        with translation.override(recipient.language):
            response = view(request, recipient, token, *args, **kwargs)
            response.headers["Content-Language"] = recipient.language
            # same-origin: other sites never see the secret link, while our own form posts keep their
            # Origin/Referer (with no-referrer Chromium sends "Origin: null" and CSRF refuses the post).
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["X-Robots-Tag"] = "noindex"
            return response

    return never_cache(wrapped)


def _question_context(
    recipient: Recipient, token: str, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    request = recipient.request
    answers = {answer.question_key: answer.value for answer in request.answers.all()}
    files: dict[str, list[Any]] = {}
    for answer_file in request.files.order_by("id"):
        files.setdefault(answer_file.question_key, []).append(answer_file)
    organisation = Organisation.current()
    items = []
    for question in request.form_version.questions:
        localized = localize_question(question, recipient.language)
        items.append(question_item(localized, answers, files, (errors or {}).get(question["key"], "")))
    return {
        "recipient": recipient,
        "client_request": request,
        "title": localize_title(request.title, request.form_version.definition, recipient.language),
        "token": token,
        "items": items,
        "errors": errors or {},
        "organisation_name": organisation.name,
        # The moment of sending in the reader's own zone (a third party without a contact: the business's).
        "time_zone": recipient.contact.time_zone if recipient.contact else organisation.time_zone,
        "is_read_only": not request.is_open,
        "submission": request.submissions.order_by("-number").first(),
        # Named next to the submit button, where a client on a phone is when the answers are refused.
        "first_error": next((item for item in items if item["error"] and item["is_visible"]), None),
    }


def question_item(
    question: dict[str, Any], answers: dict[str, Any], files: dict[str, list[Any]], error: str
) -> dict[str, Any]:
    """One question ready for the recipient's page; `question` is already in the reader's language."""
    value = answers.get(question["key"])
    labels = question.get("choice_labels") or {}
    return {
        "q": question,
        "choices": [(choice, labels.get(choice, choice)) for choice in question.get("choices", [])],
        "value": value,
        "values": value if isinstance(value, list) else ([] if value is None else [str(value)]),
        "text": "" if value is None else str(value),
        "display": display_answer(question, value),
        "files": files.get(question["key"], []),
        "is_visible": is_visible(question, answers),
        "error": error,
        "scale": range(1, int(question.get("scale", 5)) + 1),
    }


@require_GET
@with_recipient
def respond(request: HttpRequest, recipient: Recipient, token: str) -> HttpResponse:
    services.note_opened(recipient)
    context = _question_context(recipient, token)
    context["just_saved"] = request.GET.get("saved") == "1" and recipient.request.is_open
    return render(request, "client_requests/respond.html", context)


def _posted(request: HttpRequest, key: str, question: dict[str, Any]) -> str | list[str]:
    values = request.POST.getlist(f"q-{key}")
    if question["type"] == QuestionType.MULTIPLE_CHOICE:
        return values
    return values[-1] if values else ""


def _find_question(recipient: Recipient, key: str) -> dict[str, Any] | None:
    return next((q for q in recipient.request.form_version.questions if q["key"] == key), None)


@require_POST
@with_recipient
def save_answer(request: HttpRequest, recipient: Recipient, token: str, key: str) -> HttpResponse:
    """Autosave of one field: answers with the field's status line, and re-shows questions depending on it."""
    question = _find_question(recipient, key)
    if question is None:
        error = _("This question is no longer part of the form.")
        return render(request, "client_requests/_save_status.html", {"error": error}, status=422)
    try:
        services.save_answer(recipient, key, _posted(request, key, question))
    except DomainError as error:
        return render(request, "client_requests/_save_status.html", {"error": error.message}, status=422)
    context = _question_context(recipient, token)
    dependants = [
        item for item in context["items"] if (item["q"].get("show_if") or {}).get("question") == key
    ]
    return render(
        request, "client_requests/_save_status.html", {**context, "saved": True, "dependants": dependants}
    )


@require_POST
@with_recipient
def upload_files(request: HttpRequest, recipient: Recipient, token: str, key: str) -> HttpResponse:
    """Upload to one file question; answers with that question's file list (and the refusal, if any)."""
    status, error = 200, ""
    try:
        services.add_files(recipient, key, request.FILES.getlist(f"file-{key}"))
    except DomainError as refused:
        status, error = 422, refused.message
    return _file_block(request, recipient, token, key, error=error, status=status)


@require_POST
@with_recipient
def delete_file(
    request: HttpRequest, recipient: Recipient, token: str, key: str, file_id: int
) -> HttpResponse:
    status, error = 200, ""
    try:
        services.remove_file(recipient, file_id)
    except DomainError as refused:
        status, error = 422, refused.message
    return _file_block(request, recipient, token, key, error=error, status=status)


def _file_block(
    request: HttpRequest, recipient: Recipient, token: str, key: str, *, error: str, status: int
) -> HttpResponse:
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("client_requests:respond", token=token)
    context = _question_context(recipient, token)
    item = next((item for item in context["items"] if item["q"]["key"] == key), None)
    if item is None:
        return link_invalid(request)
    item["error"] = error
    return render(request, "client_requests/_file_block.html", {**context, "item": item}, status=status)


@require_POST
@with_recipient
def submit(request: HttpRequest, recipient: Recipient, token: str) -> HttpResponse:
    """Send the answers in. Without JavaScript the posted fields are saved first; errors show in place.

    Without JavaScript there is no autosave, so the page offers "Save and finish later" (`save` in the
    post): it saves the posted fields and comes back to the page without submitting.
    """
    errors: dict[str, str] = {}
    if not request.htmx and recipient.request.is_open:  # type: ignore[attr-defined]
        errors = _save_everything(request, recipient)
        if "save" in request.POST and not errors:
            return redirect(reverse("client_requests:respond", args=[token]) + "?saved=1")
    if not errors:
        try:
            services.submit_request(recipient)
        except services.SubmissionIncomplete as incomplete:
            errors = incomplete.errors
        except DomainError:
            errors = {}
    if errors:
        context = _question_context(recipient, token, errors)
        template = "client_requests/_respond_form.html" if request.htmx else "client_requests/respond.html"  # type: ignore[attr-defined]
        return render(request, template, context, status=422)
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(request.path.rsplit("submit/", 1)[0])
    return redirect("client_requests:respond", token=token)


def _save_everything(request: HttpRequest, recipient: Recipient) -> dict[str, str]:
    errors = {}
    for question in recipient.request.form_version.questions:
        key = question["key"]
        try:
            if question["type"] == QuestionType.FILE:
                uploads = request.FILES.getlist(f"file-{key}")
                if uploads:
                    services.add_files(recipient, key, uploads)
            elif question["type"] != QuestionType.INFO:
                services.save_answer(recipient, key, _posted(request, key, question))
        except DomainError as error:
            errors[key] = error.message
    return errors
