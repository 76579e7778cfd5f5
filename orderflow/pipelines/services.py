"""Every write to pipelines and orders goes through these functions (views, rules, CLI and tests alike)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, User
from orderflow.errors import DomainError
from orderflow.pipelines.models import Order, OrderEvent, Pipeline, Stage


class StageGuardError(DomainError):
    """A stage move that the pipeline's rules do not allow. Nothing was changed."""

    code = "stage_guard"


class OrderInputError(DomainError):
    code = "order_invalid"


def _publish(event: OrderEvent) -> None:
    """After commit, hand the event to the automation engine (one Celery task per event)."""
    from orderflow.automation.tasks import handle_order_event

    event_id = event.pk
    transaction.on_commit(lambda: handle_order_event.delay(event_id))


def check_can_move(order: Order, to_stage: Stage, *, by: User | None) -> None:
    """Raise StageGuardError if `by` may not move `order` to `to_stage`. No I/O beyond permission lookups."""
    if to_stage.pipeline_id != order.pipeline_id:
        raise StageGuardError(
            _("“%(stage)s” belongs to another pipeline.") % {"stage": to_stage.name},
            code="stage_other_pipeline",
        )
    if to_stage.pk == order.stage_id:
        raise StageGuardError(
            _("The order is already in “%(stage)s”.") % {"stage": to_stage.name}, code="stage_unchanged"
        )
    if by is not None and not by.has_perm("pipelines.move_order"):
        raise StageGuardError(_("You may not move orders."), code="stage_forbidden")


@transaction.atomic
def create_order(
    *,
    pipeline: Pipeline,
    client: Contact,
    title: str,
    by: User | None,
    owner: User | None = None,
    stage: Stage | None = None,
) -> Order:
    """Open a new order in `stage` (default: the pipeline's first main stage) and record it on the timeline."""
    title = title.strip()
    if not title:
        raise OrderInputError(_("Give the order a title."), code="title_missing")
    locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    if stage is None:
        stage = locked.stages.filter(is_side=False).order_by("position", "id").first()
        if stage is None:
            raise OrderInputError(_("This pipeline has no stages yet."), code="pipeline_empty")
    elif stage.pipeline_id != locked.pk:
        raise OrderInputError(_("That stage belongs to another pipeline."), code="stage_other_pipeline")
    locked.last_number += 1
    locked.save(update_fields=["last_number"])
    order = Order.objects.create(
        pipeline=locked, number=locked.last_number, title=title, stage=stage, client=client, owner=owner or by
    )
    event = OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.CREATED,
        audience=OrderEvent.Audience.CLIENT,
        actor=by,
        to_stage=stage,
    )
    _publish(event)
    return order


@transaction.atomic
def move_order(order: Order, to_stage: Stage, *, by: User | None, reason: str = "") -> OrderEvent:
    """Move `order` to `to_stage`, recording who, when, from where and why.

    The order row is locked first, so two people moving the same order at once end with one
    consistent stage and an event for each move that happened; a move that became meaningless
    (already there) is refused with StageGuardError and changes nothing. `by=None` means a rule.
    """
    locked = Order.objects.select_for_update().select_related("stage", "pipeline").get(pk=order.pk)
    check_can_move(locked, to_stage, by=by)
    from_stage = locked.stage
    if to_stage.is_side and not from_stage.is_side:
        locked.return_stage = from_stage  # remembered so that leaving the side status goes back
    elif not to_stage.is_side:
        locked.return_stage = None
    locked.stage = to_stage
    locked.stage_entered_at = timezone.now()
    locked.save(update_fields=["stage", "stage_entered_at", "return_stage", "updated_at"])
    event = OrderEvent.objects.create(
        order=locked,
        kind=OrderEvent.Kind.STAGE_CHANGED,
        audience=OrderEvent.Audience.CLIENT if to_stage.notify_client else OrderEvent.Audience.INTERNAL,
        actor=by,
        from_stage=from_stage,
        to_stage=to_stage,
        message=reason.strip(),
    )
    order.stage = to_stage
    order.stage_entered_at = locked.stage_entered_at
    order.return_stage = locked.return_stage
    _publish(event)
    return event


def leave_side_status(order: Order, *, by: User | None, reason: str = "") -> OrderEvent:
    """Take an order out of its side status (On hold, …) back to the stage it was in before."""
    if not order.stage.is_side or order.return_stage is None:
        raise StageGuardError(_("The order is not in a side status."), code="not_in_side_status")
    return move_order(order, order.return_stage, by=by, reason=reason)
