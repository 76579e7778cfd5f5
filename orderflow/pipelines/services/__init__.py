"""Every write to pipelines and orders goes through these functions (views, rules, CLI and tests alike).

Split by topic: orders (open, move, bulk move, change details, the timeline), staff tasks, saved views.
Pipeline settings (stages, fields) are in orderflow.pipelines.configure.
"""

from orderflow.pipelines.services.orders import (
    BulkMoveResult,
    OrderInputError,
    StageGuardError,
    check_can_move,
    check_may_set_stage,
    create_order,
    default_audience,
    leave_side_status,
    move_order,
    move_orders,
    record_event,
    update_order,
)
from orderflow.pipelines.services.saved_views import SavedViewError, save_view
from orderflow.pipelines.services.staff_tasks import (
    TaskForbiddenError,
    TaskInputError,
    check_can_complete_task,
    complete_task,
    create_task,
    may_complete_task,
)

__all__ = [
    "BulkMoveResult",
    "OrderInputError",
    "SavedViewError",
    "StageGuardError",
    "TaskForbiddenError",
    "TaskInputError",
    "check_can_complete_task",
    "check_can_move",
    "check_may_set_stage",
    "complete_task",
    "create_order",
    "create_task",
    "default_audience",
    "leave_side_status",
    "may_complete_task",
    "move_order",
    "move_orders",
    "record_event",
    "save_view",
    "update_order",
]
