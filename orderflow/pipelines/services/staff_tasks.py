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


class TaskForbiddenError(DomainError):
    """Someone may not do this to the task (e.g. tick off a colleague's task). Nothing was changed."""

    code = "task_forbidden"


def may_complete_task(task: StaffTask, *, by: User | None) -> bool:
    """Whether `by` may mark `task` done: its assignee, whoever created it, or someone allowed to
    change any task (managers and admins hold pipelines.change_stafftask). `by=None` is a rule."""
    if by is None:
        return True
    return by.pk in (task.assignee_id, task.created_by_id) or by.has_perm("pipelines.change_stafftask")


def check_can_complete_task(task: StaffTask, *, by: User | None) -> None:
    """Raise TaskForbiddenError unless `by` may mark `task` done (see may_complete_task)."""
    if not may_complete_task(task, by=by):
        raise TaskForbiddenError(
            _("Only %(assignee)s, who created the task, or a manager may mark “%(task)s” done.")
            % {"assignee": task.assignee, "task": task.title},
            code="task_not_yours",
        )


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
    """Mark a task done. Completing a done task again changes nothing (double clicks are harmless).

    Only the assignee, the task's creator, managers and admins may (TaskForbiddenError otherwise).
    """
    locked = StaffTask.objects.select_for_update().select_related("assignee").get(pk=task.pk)
    check_can_complete_task(locked, by=by)
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
