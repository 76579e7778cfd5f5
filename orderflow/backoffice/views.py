"""Views of the staff workspace: thin, each parses input, calls one service or selector, renders."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orderflow.accounts.models import Organisation
from orderflow.accounts.services import ContactInputError, create_contact
from orderflow.automation.reminders import next_reminder_for
from orderflow.backoffice.contacts import picker_context, show_contact_errors
from orderflow.backoffice.forms import (
    NEW_CLIENT_FIELDS,
    MoveOrderForm,
    OrderCreateForm,
    OrderDetailsForm,
    TaskForm,
    time_zone_names,
)
from orderflow.errors import DomainError
from orderflow.notifications.catcher import read_caught_mail
from orderflow.notifications.selectors import messages_for_order
from orderflow.pipelines import selectors
from orderflow.pipelines.custom_fields import CustomFieldError, display_value
from orderflow.pipelines.models import FieldDefinition, Order, StaffTask
from orderflow.pipelines.services import (
    complete_task,
    create_order,
    create_task,
    leave_side_status,
    move_order,
    update_order,
)

MY_TASKS_PAGE_SIZE = 50


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("backoffice:order-list")


@login_required
@permission_required("pipelines.add_order", raise_exception=True)
def order_create(request: HttpRequest) -> HttpResponse:
    """A new order for a client found with the picker, or for a new contact made in the same step."""
    default_zone = Organisation.current().time_zone
    form = OrderCreateForm(
        request.POST if request.method == "POST" else None,
        initial={"owner": request.user.pk},
        default_time_zone=default_zone,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                client = data["client"] or create_contact(form.new_client_details(), by=request.user)  # type: ignore[arg-type]
                order = create_order(
                    pipeline=data["pipeline"],
                    client=client,
                    title=data["title"],
                    owner=data["owner"],
                    by=request.user,  # type: ignore[arg-type]
                )
        except ContactInputError as error:
            show_contact_errors(form, error, names=NEW_CLIENT_FIELDS)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Order %(reference)s created.") % {"reference": order.reference})
            return redirect("backoffice:order-detail", pk=order.pk)
    chosen = form.cleaned_data.get("client") if form.is_bound and hasattr(form, "cleaned_data") else None
    context = {
        "form": form,
        "time_zones": time_zone_names(),
        **picker_context(
            "client",
            search=request.POST.get("client_search", "") if form.is_bound else "",
            selected=chosen,
            label=str(form["client"].label),
        ),
    }
    return render(request, "backoffice/order_create.html", context, status=422 if form.errors else 200)


def _order_card_context(order: Order, **extra: Any) -> dict[str, Any]:
    tasks = list(selectors.tasks_of_order(order))
    definitions = list(order.pipeline.fields.all())
    return {
        "order": order,
        "events": selectors.order_timeline(order, definitions=definitions),
        "move_form": extra.pop("move_form", None) or MoveOrderForm(order=order),
        "field_rows": _field_rows(order, definitions),
        "tasks": tasks,
        "open_tasks": [task for task in tasks if not task.is_done][:3],
        "next_reminder": next_reminder_for(order),
        "messages_sent": messages_for_order(order)[:10],
        "task_form": extra.pop("task_form", None) or TaskForm(initial={"assignee": order.owner_id}),
        **extra,
    }


def _field_rows(order: Order, definitions: list[FieldDefinition] | None = None) -> list[tuple[str, str]]:
    values = order.fields or {}
    if definitions is None:
        definitions = list(order.pipeline.fields.all())
    return [(d.label, display_value(d, values.get(d.key))) for d in definitions]


def _staff_order(request: HttpRequest, pk: int) -> Order:
    return get_object_or_404(selectors.orders_for_staff(user=request.user), pk=pk)  # type: ignore[arg-type]


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(selectors.orders_for_staff(user=request.user), pk=pk)  # type: ignore[arg-type]
    return render(request, "backoffice/order_detail.html", _order_card_context(order))


@login_required
@permission_required("pipelines.move_order", raise_exception=True)
@require_POST
def order_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the order; an htmx request gets the refreshed card section back, others a redirect."""
    order = get_object_or_404(selectors.orders_for_staff(user=request.user), pk=pk)  # type: ignore[arg-type]
    form = MoveOrderForm(request.POST, order=order)
    status = 200
    if form.is_valid():
        try:
            move_order(order, form.cleaned_data["stage"], by=request.user, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
        except DomainError as error:
            form.add_error("stage", error.message)
            status = 422
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, _("Moved to “%(stage)s”.") % {"stage": order.stage.name})
                return redirect("backoffice:order-detail", pk=order.pk)
            form = MoveOrderForm(order=order)
    else:
        status = 422
    template = "backoffice/_order_stage_and_timeline.html" if request.htmx else "backoffice/order_detail.html"  # type: ignore[attr-defined]
    return render(request, template, _order_card_context(order, move_form=form), status=status)


@login_required
@permission_required("pipelines.move_order", raise_exception=True)
@require_POST
def order_leave_side(request: HttpRequest, pk: int) -> HttpResponse:
    """Take the order out of its side status, back to where it was."""
    order = _staff_order(request, pk)
    try:
        leave_side_status(order, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("backoffice:order-detail", pk=order.pk)


@login_required
@permission_required("pipelines.change_order", raise_exception=True)
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The details form; htmx swaps it into the card and back, other browsers get a full page."""
    order = _staff_order(request, pk)
    form = OrderDetailsForm(request.POST or None, order=order)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                update_order(
                    order,
                    by=request.user,  # type: ignore[arg-type]
                    title=data["title"],
                    owner=data["owner"],
                    value=data["value"],
                    due_date=data["due_date"],
                    fields=form.field_values(),
                    tags=form.tag_names(),
                    watchers=list(data["watchers"]),
                )
            except CustomFieldError as error:
                for key, message in error.errors.items():
                    form.add_error(f"field__{key}" if f"field__{key}" in form.fields else None, message)
                status = 422
            except DomainError as error:
                form.add_error(None, error.message)
                status = 422
            else:
                if request.htmx:  # type: ignore[attr-defined]
                    order = _staff_order(request, pk)
                    return render(
                        request,
                        "backoffice/_order_details.html",
                        {"order": order, "field_rows": _field_rows(order)},
                    )
                messages.success(request, _("Saved."))
                return redirect("backoffice:order-detail", pk=order.pk)
        else:
            status = 422
    if request.htmx and request.method == "GET" and request.GET.get("cancel"):  # type: ignore[attr-defined]
        return render(
            request, "backoffice/_order_details.html", {"order": order, "field_rows": _field_rows(order)}
        )
    template = "backoffice/_order_details_form.html" if request.htmx else "backoffice/order_edit.html"  # type: ignore[attr-defined]
    return render(request, template, {"order": order, "form": form}, status=status)


@login_required
@permission_required("pipelines.change_order", raise_exception=True)
@require_POST
def order_task_create(request: HttpRequest, pk: int) -> HttpResponse:
    order = _staff_order(request, pk)
    form = TaskForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            create_task(
                order=order,
                title=form.cleaned_data["title"],
                assignee=form.cleaned_data["assignee"],
                due_at=form.cleaned_data["due_at"],
                by=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            form.add_error(None, error.message)
            status = 422
        else:
            form = TaskForm(initial={"assignee": order.owner_id})
    else:
        status = 422
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("backoffice:order-detail", pk=order.pk)
    return render(
        request,
        "backoffice/_order_tasks.html",
        {"order": order, "tasks": selectors.tasks_of_order(order), "task_form": form},
        status=status,
    )


@login_required
@permission_required("pipelines.change_order", raise_exception=True)
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick a task off; someone else's task is refused with the reason, shown as a message."""
    task = get_object_or_404(StaffTask.objects.select_related("order"), pk=pk)
    if task.order_id is not None:
        _staff_order(request, task.order_id)  # the task's order must be visible to this user
    try:
        complete_task(task, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("backoffice:my-tasks")


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def my_tasks(request: HttpRequest) -> HttpResponse:
    """The user's open tasks, soonest due first, a page at a time; then the last few done."""
    page = Paginator(selectors.open_tasks_for(request.user), MY_TASKS_PAGE_SIZE).get_page(  # type: ignore[arg-type]
        request.GET.get("page")
    )
    return render(
        request,
        "backoffice/my_tasks.html",
        {
            "page": page,
            "open_tasks": page.object_list,
            "done_tasks": selectors.recently_done_tasks_for(request.user),  # type: ignore[arg-type]
            "now": timezone.now(),
        },
    )


@login_required
@permission_required("notifications.view_outboxmessage", raise_exception=True)
def caught_mail(request: HttpRequest) -> HttpResponse:
    """The e-mail the embedded SMTP catcher received (development and single-machine set-ups)."""
    return render(
        request,
        "backoffice/caught_mail.html",
        {"mails": read_caught_mail(limit=100), "catcher_enabled": settings.MAIL_CATCHER},
    )
