"""Staff pages of notifications (delivery log, contact preferences, templates) and the unsubscribe page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orderflow.accounts.models import Contact, Language
from orderflow.errors import DomainError
from orderflow.notifications import selectors, services
from orderflow.notifications.channels.email import UNSUBSCRIBE_SALT
from orderflow.notifications.forms import ContactPreferencesForm, LogFilterForm, MessageTemplateForm
from orderflow.notifications.models import Channel, MessageTemplate, OutboxMessage
from orderflow.notifications.preferences import (
    PreferenceError,
    unsubscribe_from_offers,
    update_contact_preferences,
)
from orderflow.notifications.rendering import (
    PLACEHOLDERS,
    TemplateProblem,
    placeholder_values,
    render_source,
    template_for,
)
from orderflow.pipelines.models import Order

UNSUBSCRIBE_MAX_AGE = 60 * 60 * 24 * 365


@login_required
@permission_required("notifications.view_outboxmessage", raise_exception=True)
def message_log(request: HttpRequest) -> HttpResponse:
    """Every message, newest first, filterable; htmx gets the results table alone."""
    form = LogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    log = selectors.delivery_log(
        status=filters.get("status", ""), channel=filters.get("channel", ""), search=filters.get("q", "")
    )
    page = Paginator(log, 50).get_page(request.GET.get("page"))
    template = "notifications/_message_log_results.html" if request.htmx else "notifications/message_log.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "page": page, "query": request.GET.urlencode()})


@login_required
@permission_required("notifications.change_outboxmessage", raise_exception=True)
@require_POST
def message_resend(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        copy = services.resend_message(message, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Sent again to %(recipient)s.") % {"recipient": copy.recipient})
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("notifications:log")


@login_required
@permission_required("accounts.change_contact", raise_exception=True)
def contact_preferences(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk)
    form = ContactPreferencesForm.for_contact(contact, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                update_contact_preferences(contact, by=request.user, **form.service_arguments())  # type: ignore[arg-type]
            except PreferenceError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
                status = 422
            else:
                messages.success(request, _("Saved."))
                return redirect("notifications:contact-preferences", pk=contact.pk)
        else:
            status = 422
    return render(
        request, "notifications/contact_preferences.html", {"contact": contact, "form": form}, status=status
    )


def _template_key(event: str, channel: str, language: str) -> tuple[str, str, str]:
    if (
        event not in MessageTemplate.Event.values
        or channel not in Channel.values
        or language not in Language.values
    ):
        raise Http404
    return event, channel, language


@login_required
@permission_required("notifications.change_messagetemplate", raise_exception=True)
def template_list(request: HttpRequest) -> HttpResponse:
    own = set(MessageTemplate.objects.values_list("event", "channel", "language"))
    rows = [
        {
            "event": event,
            "channel": channel,
            "cells": [
                (language, label, (event.value, channel.value, language) in own)
                for language, label in Language.choices
            ],
        }
        for event in MessageTemplate.Event
        for channel in Channel
    ]
    return render(request, "notifications/template_list.html", {"rows": rows})


@login_required
@permission_required("notifications.change_messagetemplate", raise_exception=True)
def template_edit(request: HttpRequest, event: str, channel: str, language: str) -> HttpResponse:
    """Edit one template; "Preview" renders it with a real order without saving."""
    event, channel, language = _template_key(event, channel, language)
    orders = list(
        Order.objects.select_related("pipeline", "client", "stage").order_by("-created_at", "-id")[:50]
    )
    subject, body = template_for(event, channel, language)
    form = MessageTemplateForm(
        request.POST or None,
        orders=orders,
        initial={"subject": subject, "body": body, "preview_order": orders[0].pk if orders else None},
    )
    preview: dict[str, str] | None = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            preview, problem = _preview(
                data["subject"], data["body"], data.get("preview_order"), orders, language
            )
            if problem is not None:
                form.add_error(problem[0], problem[1])
                status = 422
        elif "reset" in request.POST:
            services.reset_message_template(event=event, channel=channel, language=language)
            messages.success(request, _("Back to the standard wording."))
            return redirect("notifications:template-edit", event=event, channel=channel, language=language)
        else:
            try:
                services.save_message_template(
                    event=event,
                    channel=channel,
                    language=language,
                    subject=data["subject"],
                    body=data["body"],
                    by=request.user,  # type: ignore[arg-type]
                )
            except services.TemplateError as error:
                form.add_error(error.field, error.message)
                status = 422
            else:
                messages.success(request, _("Saved."))
                return redirect(
                    "notifications:template-edit", event=event, channel=channel, language=language
                )
    elif request.method == "POST":
        status = 422
    context = {
        "form": form,
        "event_label": MessageTemplate.Event(event).label,
        "channel_label": Channel(channel).label,
        "language_label": Language(language).label,
        "is_own": MessageTemplate.objects.filter(event=event, channel=channel, language=language).exists(),
        "placeholders": list(PLACEHOLDERS),
        "preview": preview,
    }
    if request.htmx and preview is not None:  # type: ignore[attr-defined]
        return render(request, "notifications/_template_preview.html", context, status=status)
    return render(request, "notifications/template_edit.html", context, status=status)


def _preview(
    subject: str, body: str, order_id: int | None, orders: list[Order], language: str
) -> tuple[dict[str, str] | None, tuple[str, str] | None]:
    order = next(
        (candidate for candidate in orders if candidate.pk == order_id), orders[0] if orders else None
    )
    if order is None:
        values = dict(PLACEHOLDERS)
    else:
        values = placeholder_values(contact=order.client, order=order, stage=order.stage, language=language)
    try:
        rendered_subject = " ".join(render_source(subject, values).split())
    except TemplateProblem as problem:
        return None, ("subject", problem.message)
    try:
        rendered_body = render_source(body, values).strip()
    except TemplateProblem as problem:
        return None, ("body", problem.message)
    return {
        "subject": rendered_subject,
        "body": rendered_body,
        "order": order.reference if order else "",
    }, None


@csrf_exempt  # mail clients post the one-click unsubscribe (RFC 8058) without a session or token
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """A client's link from an e-mail: GET asks to confirm, POST stops offers and feedback e-mail."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
        contact = Contact.objects.get(pk=int(payload["contact"]))
    except (signing.BadSignature, KeyError, ValueError, TypeError, Contact.DoesNotExist):
        return render(request, "notifications/unsubscribe.html", {"state": "invalid"}, status=404)
    if request.method == "POST":
        unsubscribe_from_offers(contact.pk)
        return render(request, "notifications/unsubscribe.html", {"state": "done", "contact": contact})
    return render(request, "notifications/unsubscribe.html", {"state": "ask", "contact": contact})
