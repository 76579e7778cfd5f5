"""Reads of orders and timelines, with the joins done here so pages do not query per row."""

from __future__ import annotations

from django.db.models import F, QuerySet

from orderflow.accounts.models import User
from orderflow.pipelines.models import Order, OrderEvent, Pipeline, StaffTask, Stage


def orders_for_staff(*, user: User, pipeline: Pipeline | None = None) -> QuerySet[Order]:
    """Orders a staff member may see, with what a list row shows already joined."""
    orders = Order.objects.select_related("pipeline", "stage", "client", "owner")
    if not user.has_perm("pipelines.view_order"):
        return orders.none()
    if pipeline is not None:
        orders = orders.filter(pipeline=pipeline)
    return orders


def order_timeline(order: Order) -> QuerySet[OrderEvent]:
    return order.events.select_related("actor", "from_stage", "to_stage").order_by("created_at", "id")


def stages_to_move_to(order: Order) -> QuerySet[Stage]:
    return order.pipeline.stages.exclude(pk=order.stage_id).order_by("is_side", "position", "id")


def active_pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(is_active=True).order_by("name", "id")


def tasks_of_order(order: Order) -> QuerySet[StaffTask]:
    """Open tasks first (soonest due first), then done ones."""
    return order.tasks.select_related("assignee").order_by(
        F("done_at").asc(nulls_first=True), F("due_at").asc(nulls_last=True), "id"
    )


def open_tasks_for(user: User) -> QuerySet[StaffTask]:
    return (
        StaffTask.objects.filter(assignee=user, done_at__isnull=True)
        .select_related("order__pipeline", "order__stage", "order__client")
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )


def recently_done_tasks_for(user: User, *, limit: int = 20) -> QuerySet[StaffTask]:
    return (
        StaffTask.objects.filter(assignee=user, done_at__isnull=False)
        .select_related("order__pipeline")
        .order_by("-done_at")[:limit]
    )
