"""Every write to pipelines and orders goes through these functions (views, rules, CLI and tests alike).

Split by topic: orders (open, move, bulk move, change details, the timeline), staff tasks, saved views.
Pipeline settings (stages, fields) are in orderflow.pipelines.configure.
"""

from orderflow.pipelines.services.orders import (
    OrderInputError,
    StageGuardError,
    check_can_move,
    create_order,
    leave_side_status,
    move_order,
    record_event,
    update_order,
)
from orderflow.pipelines.services.staff_tasks import TaskInputError, complete_task, create_task

__all__ = [
    "OrderInputError",
    "StageGuardError",
    "TaskInputError",
    "check_can_move",
    "complete_task",
    "create_order",
    "create_task",
    "leave_side_status",
    "move_order",
    "record_event",
    "update_order",
]
