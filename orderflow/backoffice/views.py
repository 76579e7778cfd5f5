"""Views of the staff workspace: thin, each parses input, calls one service or selector, renders."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orderflow.accounts.models import Contact
from orderflow.backoffice.forms import MoveOrderForm, OrderCreateForm
from orderflow.errors import DomainError
from orderflow.notifications.catcher import read_caught_mail
from orderflow.pipelines import selectors
from orderflow.pipelines.models import Order
from orderflow.pipelines.services import create_order, move_order


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("backoffice:order-list")


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def order_list(request: HttpRequest) -> HttpResponse:
    orders = selectors.orders_for_staff(user=request.user)[:200]  # type: ignore[arg-type]
    return render(request, "backoffice/order_list.html", {"orders": orders})


@login_required
@permission_required("pipelines.add_order", raise_exception=True)
def order_create(request: HttpRequest) -> HttpResponse:
    form = OrderCreateForm(request.POST or None, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                client = data["client"] or Contact.objects.create(
                    name=data["new_client_name"],
                    email=data["new_client_email"],
                    language=data["new_client_language"] or "en",
                )
                order = create_order(
                    pipeline=data["pipeline"],
                    client=client,
                    title=data["title"],
                    owner=data["owner"],
                    by=request.user,  # type: ignore[arg-type]
                )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Order %(reference)s created.") % {"reference": order.reference})
            return redirect("backoffice:order-detail", pk=order.pk)
    return render(request, "backoffice/order_create.html", {"form": form})


def _order_card_context(order: Order, **extra: Any) -> dict[str, Any]:
    return {
        "order": order,
        "events": selectors.order_timeline(order),
        "move_form": extra.pop("move_form", None) or MoveOrderForm(order=order),
        **extra,
    }


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
@permission_required("notifications.view_outboxmessage", raise_exception=True)
def caught_mail(request: HttpRequest) -> HttpResponse:
    """The e-mail the embedded SMTP catcher received (development and single-machine set-ups)."""
    return render(
        request,
        "backoffice/caught_mail.html",
        {"mails": read_caught_mail(limit=100), "catcher_enabled": settings.MAIL_CATCHER},
    )
