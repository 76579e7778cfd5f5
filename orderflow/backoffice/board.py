"""The pipeline board: one column per stage, cards dragged (or moved from the keyboard) between them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orderflow.accounts.models import User
from orderflow.errors import DomainError
from orderflow.pipelines import selectors
from orderflow.pipelines.models import Order, Pipeline, Stage
from orderflow.pipelines.services import move_order


@dataclass(frozen=True)
class Column:
    """One stage on the board with its totals and the cards shown so far."""

    stage: Stage
    count: int
    total_display: str
    cards: list[Order]
    next_cursor: selectors.BoardCursor | None
    stale_before: datetime.datetime | None


def money_display(amount: Decimal, currency: str) -> str:
    """A column total as people scan it: whole units with thousands separators, then the currency."""
    return f"{floatformat(amount, '0g')} {currency}"


def stale_before(stage: Stage, *, now: datetime.datetime) -> datetime.datetime | None:
    """Orders that entered `stage` before this moment have been there longer than its max_days."""
    return now - datetime.timedelta(days=stage.max_days) if stage.max_days else None


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def _columns(pipeline: Pipeline, *, user: User) -> list[Column]:
    stages = list(selectors.board_stages(pipeline, user=user))
    cards = selectors.board_first_cards(pipeline, user=user)
    now = timezone.now()
    columns = []
    for stage in stages:
        shown = cards.get(stage.pk, [])
        count: int = stage.order_count  # type: ignore[attr-defined]
        cursor = None
        if count > len(shown) and shown:
            cursor = selectors.BoardCursor(entered_at=shown[-1].stage_entered_at, order_id=shown[-1].pk)
        columns.append(
            Column(
                stage=stage,
                count=count,
                total_display=money_display(stage.order_value, pipeline.currency),  # type: ignore[attr-defined]
                cards=shown,
                next_cursor=cursor,
                stale_before=stale_before(stage, now=now),
            )
        )
    return columns


def _board_text() -> dict[str, str]:
    """Strings board.js shows, translated here so the script carries none of its own."""
    return {
        "failed": _("The order could not be moved. Check your connection and try again."),
        "dismiss": _("Dismiss"),
        "moving": _("Moving…"),
    }


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def board_home(request: HttpRequest) -> HttpResponse:
    """The board of the first active pipeline, or a page explaining there is none yet."""
    pipeline = selectors.active_pipelines().first()
    if pipeline is not None:
        return redirect("backoffice:board", slug=pipeline.slug)
    return render(request, "backoffice/board.html", {"pipeline": None, "pipelines": []})


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
@require_GET
def board(request: HttpRequest, slug: str) -> HttpResponse:
    """A pipeline's board. A fixed number of queries whatever the number of orders (see the tests)."""
    user = _staff(request)
    pipeline = get_object_or_404(Pipeline, slug=slug)
    columns = _columns(pipeline, user=user)
    context = {
        "pipeline": pipeline,
        "pipelines": list(selectors.active_pipelines()),
        "main_columns": [column for column in columns if not column.stage.is_side],
        "side_columns": [column for column in columns if column.stage.is_side],
        "columns": columns,
        "order_count": sum(column.count for column in columns),
        "today": timezone.localdate(),
        "page_size": selectors.BOARD_PAGE_SIZE,
        "board_text": _board_text(),
    }
    return render(request, "backoffice/board.html", context)


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
@require_GET
def board_column(request: HttpRequest, slug: str, stage_id: int) -> HttpResponse:
    """The next page of a column's cards (htmx "Load more"), after the cursor in `?after=`."""
    user = _staff(request)
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_id, pipeline__slug=slug)
    after = selectors.BoardCursor.parse(request.GET.get("after", ""))
    cards, cursor = selectors.board_column_page(stage, user=user, after=after)
    context = {
        "pipeline": stage.pipeline,
        "stage": stage,
        "cards": cards,
        "next_cursor": cursor,
        "stale_before": stale_before(stage, now=timezone.now()),
        "today": timezone.localdate(),
        "page_size": selectors.BOARD_PAGE_SIZE,
    }
    return render(request, "backoffice/_board_cards_page.html", context)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refused(
    request: HttpRequest, pipeline: Pipeline, reason: str, *, code: str, status: int
) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": False, "code": code, "reason": reason}, status=status)
    messages.error(request, reason)
    return redirect("backoffice:board", slug=pipeline.slug)


@login_required
@permission_required("pipelines.move_order", raise_exception=True)
@require_POST
def board_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Move a card to the stage in POST `stage` through move_order (the same rules as the order card).

    Answers JSON to board.js: the refreshed card and every column's count and total, or 422 with the
    reason the move was refused (nothing changed). A plain form post is redirected back to the board.
    """
    user = _staff(request)
    pipeline = get_object_or_404(Pipeline, slug=slug)
    order = selectors.orders_for_staff(user=user, pipeline=pipeline).filter(pk=pk).first()
    if order is None:
        return _refused(
            request, pipeline, _("This order no longer exists here."), code="order_not_found", status=404
        )
    stage_id = request.POST.get("stage", "")
    is_id = stage_id.isdigit() and len(stage_id) < 19
    to_stage = Stage.objects.filter(pk=int(stage_id)).first() if is_id else None
    if to_stage is None:
        return _refused(
            request, pipeline, _("Choose a stage to move the order to."), code="stage_missing", status=422
        )
    try:
        move_order(order, to_stage, by=user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        return _refused(request, pipeline, error.message, code=error.code, status=422)
    message = _("%(reference)s moved to “%(stage)s”.") % {
        "reference": order.reference,
        "stage": to_stage.name,
    }
    if not _wants_json(request):
        messages.success(request, message)
        return redirect("backoffice:board", slug=pipeline.slug)
    card = selectors.board_card(order.pk, user=user, pipeline=pipeline)
    card_html = render_to_string(
        "backoffice/_board_card.html",
        {"order": card, "stage": to_stage, "today": timezone.localdate(), "stale_before": None},
        request=request,
    )
    columns: list[dict[str, Any]] = [
        {
            "stage": stage.pk,
            "count": stage.order_count,  # type: ignore[attr-defined]
            "total": money_display(stage.order_value, pipeline.currency),  # type: ignore[attr-defined]
        }
        for stage in selectors.board_stages(pipeline, user=user)
    ]
    return JsonResponse(
        {"ok": True, "stage": to_stage.pk, "card": card_html, "message": message, "columns": columns}
    )
