"""Staff pages of notifications (delivery log and its actions, contact preferences, templates, the
feedback report and the order card's feedback) and the client's pages (unsubscribe, message settings,
feedback)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orderflow.accounts.models import LANGUAGE_NAMES, Contact, Language, Organisation
from orderflow.errors import DomainError
from orderflow.notifications import contact_links, selectors, services
from orderflow.notifications import feedback as feedback_services
from orderflow.notifications.forms import (
    ClientPreferencesForm,
    ContactPreferencesForm,
    FeedbackForm,
    FeedbackReportForm,
    LogFilterForm,
    MessageTemplateForm,
)
from orderflow.notifications.models import Channel, MessageTemplate, OutboxMessage, PreferenceChange
from orderflow.notifications.preferences import (
    PreferenceError,
    unsubscribe_from_offers,
    update_contact_preferences,
)
from orderflow.notifications.rendering import (
    PLACEHOLDERS,
    SAMPLE_LINKS,
    TemplateProblem,
    placeholder_values,
    render_source,
    template_source,
)
from orderflow.pipelines import selectors as pipeline_selectors
from orderflow.pipelines.models import Order
from orderflow.widgets import time_zone_names


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


def _back(request: HttpRequest) -> HttpResponse:
    """To the page the action was taken on (a local path only), else the log."""
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("notifications:log")


@login_required
@permission_required("notifications.change_outboxmessage", raise_exception=True)
@require_POST
def message_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Send again" from the log or the order card: a copy of a sent or failed message, now."""
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        copy = services.resend_message(message, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if copy.status == OutboxMessage.Status.SUPPRESSED:
            messages.error(request, _("Not sent: %(reason)s") % {"reason": copy.get_reason_display()})
        else:
            messages.success(request, _("Sent again to %(recipient)s.") % {"recipient": copy.recipient})
    return _back(request)


@login_required
@permission_required("notifications.change_outboxmessage", raise_exception=True)
@require_POST
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Retry now" for a message that keeps failing (or waits for the client's hours)."""
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        services.retry_message_now(message, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Trying again now."))
    return _back(request)


@login_required
@permission_required("notifications.change_outboxmessage", raise_exception=True)
@require_POST
def message_give_up(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Give up" on a message that keeps failing: it is marked failed and no longer retried."""
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        services.give_up_message(message, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("No more attempts will be made."))
    return _back(request)


@login_required
@permission_required("accounts.change_contact", raise_exception=True)
def contact_preferences(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff edit how a contact is reached; the latest changes below say who made them (staff or the
    client on their own settings page)."""
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
        request,
        "notifications/contact_preferences.html",
        {"contact": contact, "form": form, "history": selectors.preference_history(contact)},
        status=status,
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
    source = template_source(event, channel, language)
    form = MessageTemplateForm(
        request.POST or None,
        orders=orders,
        initial={
            "subject": source.subject,
            "body": source.body,
            "upsell": source.upsell,
            "preview_order": orders[0].pk if orders else None,
        },
    )
    preview: dict[str, str] | None = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            preview, problem = _preview(
                data["subject"], data["body"], data["upsell"], data.get("preview_order"), orders, language
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
                    upsell=data["upsell"],
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
    subject: str, body: str, upsell: str, order_id: int | None, orders: list[Order], language: str
) -> tuple[dict[str, str] | None, tuple[str, str] | None]:
    """The message as a client would get it, with a real order's data; links as they would look.

    The offer is shown as a client who accepts offers would see it.
    """
    order = next(
        (candidate for candidate in orders if candidate.pk == order_id), orders[0] if orders else None
    )
    if order is None:
        values = dict(PLACEHOLDERS)
    else:
        values = placeholder_values(contact=order.client, order=order, stage=order.stage, language=language)
    values.update(SAMPLE_LINKS)
    try:
        values["upsell"] = render_source(upsell, values).strip()
    except TemplateProblem as problem:
        return None, ("upsell", problem.message)
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
    """A client's link from an e-mail: GET asks to confirm, POST stops offers and feedback e-mail.

    In the contact's language (the e-mail's), not the browser's; both answers offer the message
    settings page, where the client can also choose channels and hours instead of leaving.
    """
    try:
        contact = contact_links.contact_for_token(token, contact_links.UNSUBSCRIBE)
    except contact_links.ContactLinkError:
        return _client_response(request, "notifications/unsubscribe.html", {"state": "invalid"}, status=404)
    with translation.override(contact.language or None):
        if request.method == "POST":
            unsubscribe_from_offers(contact.pk)
        settings_token = contact_links.contact_token(contact.pk, contact_links.MESSAGE_SETTINGS)
        return _client_response(
            request,
            "notifications/unsubscribe.html",
            {
                "state": "done" if request.method == "POST" else "ask",
                "contact": contact,
                "organisation_name": Organisation.current().name,
                "settings_url": reverse("notifications:message-settings", args=[settings_token]),
            },
        )


# --- The client's message settings -----------------------------------------------------------------

# The service's refusals are worded for staff ("the client"); the client reads them about themselves.
_CLIENT_REFUSALS = {
    "no_channel": gettext_lazy("Keep at least one way we may contact you."),
    "window_empty": gettext_lazy(
        "Your hours must end after they start on the same day, e.g. 09:00 to 21:00. Hours across "
        "midnight are not possible; choose “Any time” to be contacted at any hour."
    ),
    "days_empty": gettext_lazy("Choose at least one day on which we may contact you."),
}
# Where each refusal is shown on the client's page (the service names the contact's field).
_CLIENT_FIELDS = {
    "channels": "first_channel",
    "delivery_window_start": "window_start",
    "delivery_window_end": "window_end",
    "delivery_days": "days",
    "time_zone": "time_zone",
    "language": "language",
}


def message_settings(request: HttpRequest, token: str) -> HttpResponse:
    """The client's own message settings, opened from the link at the foot of our e-mail.

    No login: the signed link is the key and opens only its contact's settings, for 90 days. In the
    contact's language, or the one chosen with the page's switch (`?lang=`). Saving goes through
    update_contact_preferences, as staff's page does, recorded as changed by the client; a refusal
    is shown next to its field and saves nothing; saving the same thing twice changes nothing.
    """
    try:
        contact = contact_links.contact_for_token(token, contact_links.MESSAGE_SETTINGS)
    except contact_links.ContactLinkError as error:
        expired = error.code == "link_expired"
        response = _client_response(
            request,
            "notifications/feedback_unusable.html",
            {"message": error.message, "expired": expired},
            status=410 if expired else 404,
        )
        response["X-Robots-Tag"] = "noindex"
        return response
    chosen_language = request.GET.get("lang", "")
    language = chosen_language if chosen_language in Language.values else contact.language
    page_url = reverse("notifications:message-settings", args=[token])
    with translation.override(language):
        offered = selectors.channels_for_client(contact)
        form = ClientPreferencesForm(request.POST or None, contact=contact, offered=offered)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    update_contact_preferences(
                        contact,
                        by=None,
                        source=PreferenceChange.Source.CLIENT,
                        **form.service_arguments(),
                    )
                except PreferenceError as error:
                    form.add_error(
                        _CLIENT_FIELDS.get(error.field), str(_CLIENT_REFUSALS.get(error.code, error.message))
                    )
                    status = 422
                else:
                    query = {"saved": "1", **({"lang": language} if chosen_language == language else {})}
                    return redirect(f"{page_url}?{urlencode(query)}")
            else:
                status = 422
        response = _client_response(
            request,
            "notifications/message_settings.html",
            {
                "contact": contact,
                "form": form,
                "saved": request.method == "GET" and request.GET.get("saved") == "1",
                "organisation_name": Organisation.current().name,
                "languages": [
                    (code, LANGUAGE_NAMES[code], f"{page_url}?{urlencode({'lang': code})}")
                    for code in Language.values
                ],
                "form_action": f"{page_url}?{urlencode({'lang': language})}" if chosen_language else page_url,
                "time_zones": time_zone_names(),
                # A zone never chosen (the model's UTC default) is filled in from the browser's.
                "zone_unset": not form.is_bound and contact.time_zone == "UTC",
                "LANGUAGE_CODE": language,
            },
            status=status,
        )
        response["X-Robots-Tag"] = "noindex"
        return response


# --- Feedback ------------------------------------------------------------------------------------


def _client_response(
    request: HttpRequest, template: str, context: dict[str, object], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The link is the key: never cache the page.
    response["Cache-Control"] = "no-store"
    return response


def feedback(request: HttpRequest, token: str) -> HttpResponse:
    """The client's page from a feedback link: rate 1-5 and comment; once answered, a thank-you.

    In the client's language. A second submit (double click, another tab) shows the first answer and
    changes nothing; an unknown or expired link gets a page that says so.
    """
    try:
        feedback_request = feedback_services.feedback_for_token(token)
    except feedback_services.FeedbackLinkError as error:
        expired = error.code == "feedback_link_expired"
        return _client_response(
            request,
            "notifications/feedback_unusable.html",
            {"message": error.message, "expired": expired},
            status=410 if expired else 404,
        )
    language = feedback_request.contact.language
    with translation.override(language):
        form = FeedbackForm(request.POST or None)
        status = 200
        just_recorded = False
        if request.method == "POST" and not feedback_request.is_answered:
            if form.is_valid():
                try:
                    feedback_request, just_recorded = feedback_services.submit_feedback(
                        feedback_request,
                        rating=form.cleaned_data["rating"],
                        comment=form.cleaned_data["comment"],
                    )
                except feedback_services.FeedbackError as error:
                    form.add_error(None, error.message)
                    status = 422
            else:
                status = 422
        return _client_response(
            request,
            "notifications/feedback.html",
            {
                "feedback": feedback_request,
                "form": form,
                "just_recorded": just_recorded,
                "order": feedback_request.order,
                "organisation_name": Organisation.current().name,
                "LANGUAGE_CODE": language,
            },
            status=status,
        )


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def feedback_report(request: HttpRequest) -> HttpResponse:
    """Staff: how clients rated finished orders — count, average, the distribution, the answers."""
    form = FeedbackReportForm(request.GET or None)
    rating = form.cleaned_data.get("rating") if form.is_valid() else None
    page = Paginator(selectors.answered_feedback(rating=rating), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/feedback_report.html",
        {"summary": selectors.feedback_summary(), "page": page, "form": form, "rating": rating},
    )


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def order_feedback(request: HttpRequest, order_pk: int) -> HttpResponse:
    """The order card's feedback section (loaded into the card's #order-feedback slot)."""
    order = get_object_or_404(pipeline_selectors.orders_for_staff(user=request.user), pk=order_pk)  # type: ignore[arg-type]
    return render(
        request,
        "notifications/_order_feedback.html",
        {"order": order, "feedback": selectors.feedback_for_order(order)},
    )
