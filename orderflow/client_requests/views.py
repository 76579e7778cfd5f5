"""Staff pages of client requests: the forms library and builder, sending, the request page, exports."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orderflow.client_requests import exports, selectors, services
from orderflow.client_requests.definitions import (
    QuestionType,
    localize_question,
    localize_title,
    translated_languages,
)
from orderflow.client_requests.forms import (
    FormCreateForm,
    MovesForm,
    QuestionForm,
    RequestEditForm,
    SaveAsTemplateForm,
    SendRequestForm,
)
from orderflow.client_requests.models import AnswerFile, ClientRequest, FormTemplate
from orderflow.client_requests.respond import question_item
from orderflow.errors import DomainError
from orderflow.pipelines import selectors as order_selectors
from orderflow.pipelines.models import Order

view_orders = permission_required("pipelines.view_order", raise_exception=True)
change_orders = permission_required("pipelines.change_order", raise_exception=True)


def _order(request: HttpRequest, pk: int) -> Order:
    return get_object_or_404(order_selectors.orders_for_staff(user=request.user), pk=pk)  # type: ignore[arg-type]


def _client_request(request: HttpRequest, pk: int) -> ClientRequest:
    try:
        return selectors.staff_request(pk, user=request.user)  # type: ignore[arg-type]
    except ClientRequest.DoesNotExist:
        raise Http404 from None


# --- Lists ---------------------------------------------------------------------------------------


@login_required
@view_orders
@require_GET
def pending_list(request: HttpRequest) -> HttpResponse:
    """Requests waiting for answers, oldest first, with how long each has waited."""
    pending = list(selectors.pending_requests(user=request.user))  # type: ignore[arg-type]
    now = timezone.now()
    rows = [(item, (now - item.sent_at).days) for item in pending]
    return render(request, "client_requests/pending_list.html", {"rows": rows, "today": timezone.localdate()})


@login_required
@view_orders
def form_list(request: HttpRequest) -> HttpResponse:
    form = FormCreateForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("pipelines.change_order"):
            raise Http404
        if form.is_valid():
            try:
                created = services.create_form(
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    by=request.user,  # type: ignore[arg-type]
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return redirect("client_requests:form-builder", pk=created.pk)
    return render(
        request, "client_requests/form_list.html", {"forms": selectors.form_library(), "create_form": form}
    )


@login_required
@change_orders
@require_POST
def form_starters(request: HttpRequest) -> HttpResponse:
    """Add seed 000's website questionnaire and design review to the library (once)."""
    services.install_starter_forms(by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("The starter forms are in the library."))
    return redirect("client_requests:form-list")


# --- Builder -------------------------------------------------------------------------------------


def _builder_context(form: FormTemplate, **extra: Any) -> dict[str, Any]:
    version = form.latest_version
    questions = version.questions
    rows = [
        {
            "q": q,
            "type_label": QuestionType(q["type"]).label,
            "languages": sorted(q.get("translations") or {}),
            "is_first": index == 0,
            "is_last": index == len(questions) - 1,
        }
        for index, q in enumerate(questions)
    ]
    return {
        "form": form,
        "version": version,
        "rows": rows,
        "add_form": extra.pop("add_form", None)
        or QuestionForm(earlier=questions, initial={"type": "short_text"}),
        "moves_form": extra.pop("moves_form", None)
        or MovesForm(
            initial=MovesForm.initial_from(version.moves),
            questions=questions,
            stage_keys=selectors.stage_keys_for(form),
        ),
        "is_frozen": services.is_version_frozen(version),
        **extra,
    }


def _builder(request: HttpRequest, form: FormTemplate, *, status: int = 200, **extra: Any) -> HttpResponse:
    template = "client_requests/_builder_panel.html" if request.htmx else "client_requests/form_builder.html"  # type: ignore[attr-defined]
    return render(request, template, _builder_context(form, **extra), status=status)


@login_required
@change_orders
@require_GET
def form_builder(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(FormTemplate.objects.select_related("order", "client_request"), pk=pk)
    return _builder(request, form)


@login_required
@change_orders
@require_POST
def question_add(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(FormTemplate, pk=pk)
    question_form = QuestionForm(request.POST, earlier=form.latest_version.questions)
    if question_form.is_valid():
        try:
            services.add_question(form, question_form.to_question(), by=request.user)  # type: ignore[arg-type]
        except DomainError as error:
            question_form.add_error(None, error.message)
        else:
            return _builder(request, form)
    return _builder(request, form, add_form=question_form, status=422)


@login_required
@change_orders
def question_edit(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    form = get_object_or_404(FormTemplate, pk=pk)
    questions = form.latest_version.questions
    index = next((i for i, q in enumerate(questions) if q["key"] == key), None)
    if index is None:
        raise Http404
    question_form = QuestionForm(
        request.POST or None, earlier=questions[:index], initial=QuestionForm.initial_from(questions[index])
    )
    status = 200
    if request.method == "POST":
        if question_form.is_valid():
            try:
                services.replace_question(form, key, question_form.to_question(), by=request.user)  # type: ignore[arg-type]
            except DomainError as error:
                question_form.add_error(None, error.message)
            else:
                if request.htmx:  # type: ignore[attr-defined]
                    return _builder(request, form)
                return redirect("client_requests:form-builder", pk=form.pk)
        status = 422
    context = {"form": form, "question": questions[index], "question_form": question_form}
    is_htmx = bool(request.htmx)  # type: ignore[attr-defined]
    template = "client_requests/_question_editor.html" if is_htmx else "client_requests/question_edit.html"
    return render(request, template, context, status=status)


@login_required
@change_orders
@require_POST
def question_delete(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    form = get_object_or_404(FormTemplate, pk=pk)
    try:
        services.remove_question(form, key, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        return _builder(request, form, error=error.message, status=422)
    return _builder(request, form)


@login_required
@change_orders
@require_POST
def question_shift(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    form = get_object_or_404(FormTemplate, pk=pk)
    try:
        services.shift_question(form, key, request.POST.get("direction", "up"), by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        return _builder(request, form, error=error.message, status=422)
    return _builder(request, form)


@login_required
@change_orders
@require_POST
def questions_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """The builder's drag and drop: the question keys in their new order, comma-separated."""
    form = get_object_or_404(FormTemplate, pk=pk)
    keys = [key for key in request.POST.get("order", "").split(",") if key]
    try:
        services.reorder_questions(form, keys, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        return _builder(request, form, error=error.message, status=422)
    return _builder(request, form)


@login_required
@change_orders
@require_POST
def moves_save(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(FormTemplate, pk=pk)
    moves_form = MovesForm(
        request.POST, questions=form.latest_version.questions, stage_keys=selectors.stage_keys_for(form)
    )
    if moves_form.is_valid():
        try:
            services.save_moves(form, moves_form.to_moves(), by=request.user)  # type: ignore[arg-type]
        except DomainError as error:
            moves_form.add_error(None, error.message)
        else:
            return _builder(request, form, moves_saved=True)
    return _builder(request, form, moves_form=moves_form, status=422)


@login_required
@change_orders
@require_GET
def form_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The form as a recipient will see it, not saving anything."""
    form = get_object_or_404(FormTemplate, pk=pk)
    definition = form.latest_version.definition
    languages = translated_languages(definition)
    language = request.GET.get("language", "")
    language = language if language in languages else ""
    items = [
        question_item(localize_question(q, language) if language else q, {}, {}, "")
        for q in form.latest_version.questions
    ]
    names = dict(settings.LANGUAGES)
    context = {
        "form": form,
        "items": items,
        "title": localize_title(form.name, definition, language) if language else form.name,
        "language": language,
        "languages": [(code, names[code]) for code in languages],
    }
    return render(request, "client_requests/form_preview.html", context)


# --- Sending and managing requests ---------------------------------------------------------------


@login_required
@change_orders
def request_send(request: HttpRequest, order_pk: int) -> HttpResponse:
    """Send a library form or this order's ad-hoc form to the client and/or other people."""
    order = _order(request, order_pk)
    forms_to_send = selectors.forms_to_send(order)
    initial = {"form": request.GET.get("form")} if request.GET.get("form") else {}
    send_form = SendRequestForm(
        request.POST or None, order=order, forms_to_send=forms_to_send, initial=initial
    )
    status = 200
    if request.method == "POST":
        if send_form.is_valid():
            try:
                sent = services.send_request(
                    order,
                    form=send_form.cleaned_data["form"],
                    recipients=send_form.recipients(),
                    message=send_form.cleaned_data["message"],
                    due_date=send_form.cleaned_data["due_date"],
                    title=send_form.cleaned_data["title"],
                    by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as error:
                send_form.add_error("to_client", error)
            except DomainError as error:
                send_form.add_error(None, error.message)
            else:
                messages.success(request, _("Request sent."))
                return redirect("client_requests:request-detail", pk=sent.pk)
        status = 422
    return render(
        request, "client_requests/request_send.html", {"order": order, "send_form": send_form}, status=status
    )


@login_required
@change_orders
@require_POST
def adhoc_create(request: HttpRequest, order_pk: int) -> HttpResponse:
    """Start an ad-hoc form for this order (outside the library), then build its questions."""
    order = _order(request, order_pk)
    name = request.POST.get("name", "").strip() or _("Questions for %(reference)s") % {
        "reference": order.reference
    }
    form = services.create_form(name=name, order=order, by=request.user)  # type: ignore[arg-type]
    return redirect("client_requests:form-builder", pk=form.pk)


@login_required
@view_orders
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client_request = _client_request(request, pk)
    return render(request, "client_requests/request_detail.html", _detail_context(client_request))


def _detail_context(client_request: ClientRequest, **extra: Any) -> dict[str, Any]:
    return {
        "client_request": client_request,
        "rows": selectors.answer_rows(client_request),
        "edit_form": extra.pop("edit_form", None)
        or RequestEditForm(
            initial={
                "title": client_request.title,
                "message": client_request.message,
                "due_date": client_request.due_date,
            }
        ),
        "template_form": SaveAsTemplateForm(initial={"name": client_request.title}),
        "now": timezone.now(),
        **extra,
    }


@login_required
@change_orders
@require_POST
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client_request = _client_request(request, pk)
    edit_form = RequestEditForm(request.POST)
    if edit_form.is_valid():
        try:
            services.update_request(client_request, by=request.user, **edit_form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as error:
            edit_form.add_error(None, error.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("client_requests:request-detail", pk=pk)
    context = _detail_context(client_request, edit_form=edit_form)
    return render(request, "client_requests/request_detail.html", context, status=422)


def _act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    client_request = _client_request(request, pk)
    user = request.user
    try:
        if action == "cancel":
            services.cancel_request(client_request, by=user)  # type: ignore[arg-type]
            messages.success(request, _("Request cancelled; its links no longer work."))
        elif action == "resend":
            services.resend_request(client_request, by=user)  # type: ignore[arg-type]
            messages.success(request, _("Sent again with new links; the old links no longer work."))
        elif action == "reopen":
            services.reopen_request(client_request, by=user)  # type: ignore[arg-type]
            messages.success(request, _("Reopened: the recipients can change their answers again."))
        elif action == "revoke":
            recipient = get_object_or_404(client_request.recipients.all(), pk=request.POST.get("recipient"))
            services.revoke_recipient(recipient, by=user)  # type: ignore[arg-type]
            messages.success(request, _("Link revoked."))
        elif action == "questions":
            own = services.own_form_for_request(client_request, by=user)  # type: ignore[arg-type]
            return redirect("client_requests:form-builder", pk=own.pk)
        elif action == "template":
            template_form = SaveAsTemplateForm(request.POST)
            name = template_form.cleaned_data["name"] if template_form.is_valid() else client_request.title
            created = services.save_as_template(client_request, name=name, by=user)  # type: ignore[arg-type]
            messages.success(request, _("Saved as a template."))
            return redirect("client_requests:form-builder", pk=created.pk)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("client_requests:request-detail", pk=pk)


@login_required
@change_orders
@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in {"cancel", "resend", "reopen", "revoke", "template", "questions"}:
        raise Http404
    return _act(request, pk, action)


@login_required
@view_orders
@require_GET
def order_requests(request: HttpRequest, order_pk: int) -> HttpResponse:
    """The order card's section of requests (loaded by htmx): each with its status, answers and files."""
    order = _order(request, order_pk)
    items = [(item, selectors.answer_rows(item)) for item in selectors.requests_for_order(order)]
    return render(request, "client_requests/_order_requests.html", {"order": order, "items": items})


@login_required
@view_orders
@require_GET
def file_download(request: HttpRequest, pk: int) -> FileResponse:
    """An uploaded file, for staff only, always as a download (never rendered in our origin)."""
    try:
        answer_file = selectors.answer_file_for_staff(pk, user=request.user)  # type: ignore[arg-type]
    except AnswerFile.DoesNotExist:
        raise Http404 from None
    response = FileResponse(
        answer_file.file.open("rb"),
        as_attachment=True,
        filename=answer_file.original_name,
        content_type=answer_file.content_type,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _export_name(client_request: ClientRequest, extension: str) -> str:
    return f"{client_request.order.reference}-{slugify(client_request.title) or 'request'}.{extension}"


@login_required
@view_orders
@require_GET
def export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    client_request = _client_request(request, pk)
    response = HttpResponse(exports.request_csv(client_request), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{_export_name(client_request, "csv")}"'
    return response


@login_required
@view_orders
@require_GET
def export_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    client_request = _client_request(request, pk)
    response = HttpResponse(exports.request_pdf(client_request), content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{_export_name(client_request, "pdf")}"'
    return response
