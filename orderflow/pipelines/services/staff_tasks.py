"""Staff tasks: something a staff member must do, usually about an order, and marking it done."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.models import User
from orderflow.errors import DomainError
from orderflow.pipelines.models import Order, OrderEvent, StaffTask


class TaskInputError(DomainError):
    code = "task_invalid"


@transaction.atomic
def create_task(
    *,
    title: str,
    assignee: User,
    by: User | None,
    order: Order | None = None,
    due_at: datetime.datetime | None = None,
    notes: str = "",
) -> StaffTask:
    """Give a staff member something to do, usually about an order (then it is on the timeline)."""
    title = title.strip()
    if not title:
        raise TaskInputError(_("Say what needs to be done."), code="task_title_missing")
    if not assignee.is_active or not assignee.has_perm("pipelines.view_order"):
        raise TaskInputError(
            _("%(person)s cannot work on orders.") % {"person": assignee}, code="task_assignee_not_staff"
        )
    task = StaffTask.objects.create(
        order=order, title=title, notes=notes.strip(), assignee=assignee, due_at=due_at, created_by=by
    )
    if order is not None:
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.TASK_CREATED,
            audience=OrderEvent.Audience.INTERNAL,
            actor=by,
            message=title,
            data={"task": task.pk, "assignee": str(assignee)},
        )
    return task


@transaction.atomic
def complete_task(task: StaffTask, *, by: User | None) -> StaffTask:
    """Mark a task done. Completing a done task again changes nothing (double clicks are harmless)."""
    locked = StaffTask.objects.select_for_update().get(pk=task.pk)
    if locked.done_at is not None:
        return locked
    locked.done_at = timezone.now()
    locked.save(update_fields=["done_at"])
    if locked.order_id is not None:
        OrderEvent.objects.create(
            order_id=locked.order_id,
            kind=OrderEvent.Kind.TASK_DONE,
            audience=OrderEvent.Audience.INTERNAL,
            actor=by,
            message=locked.title,
            data={"task": locked.pk},
        )
    return locked
