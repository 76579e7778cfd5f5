"""Orders: opening, moving (one at a time or many), changing details, and the timeline events they append."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.errors import DomainError
from orderflow.pipelines.custom_fields import clean_values, is_empty
from orderflow.pipelines.models import Order, OrderEvent, Pipeline, Stage, Tag


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


def record_event(
    order: Order,
    kind: str,
    *,
    by: User | None,
    audience: str = OrderEvent.Audience.INTERNAL,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    """Append an event to the order's timeline and hand it to automation after commit.

    For other apps (requests, bookings, messages, notifications): call inside the transaction that
    made the change, so the event exists exactly when the change does. `kind` is an OrderEvent.Kind.
    """
    if kind not in OrderEvent.Kind.values:
        raise ValueError(f"unknown order event kind {kind!r}")
    event = OrderEvent.objects.create(
        order=order, kind=kind, audience=audience, actor=by, message=message, data=data or {}
    )
    _publish(event)
    return event


def check_may_set_stage(to_stage: Stage, *, by: User) -> None:
    """Raise StageGuardError unless `by` may set `to_stage` by hand.

    Staff need the move permission and, when the stage names roles, one of its staff roles (an empty
    list lets every staff role in). A contractor may only set a stage that names the contractor role,
    and only on an order assigned to them; orders are not assigned to contractors yet (there is no
    contractor portal), so for now every contractor is refused with that reason. Superusers pass.
    """
    allowed = set(to_stage.allowed_roles or [])
    if by.has_perm("pipelines.move_order"):
        if by.is_superuser or not allowed:
            return
        roles = set(by.groups.values_list("name", flat=True))
        if roles & allowed & set(Role.STAFF):
            return
        staff_roles = ", ".join(role for role in to_stage.allowed_roles if role in Role.STAFF)
        if Role.CONTRACTOR not in allowed:
            message = _("Only %(roles)s may move an order to “%(stage)s”.")
        elif staff_roles:
            message = _("Only %(roles)s or the order's contractor may move an order to “%(stage)s”.")
        else:
            message = _("Only the order's contractor may move an order to “%(stage)s”.")
        raise StageGuardError(message % {"roles": staff_roles, "stage": to_stage.name}, code="stage_role")
    if by.has_role(Role.CONTRACTOR):
        if Role.CONTRACTOR not in allowed:
            raise StageGuardError(
                _("Contractors may not move an order to “%(stage)s”; staff set it.")
                % {"stage": to_stage.name},
                code="stage_role",
            )
        raise StageGuardError(
            _(
                "Only the contractor assigned to the order may move it to “%(stage)s”, and orders are not "
                "assigned to contractors yet; ask the order's manager to move it."
            )
            % {"stage": to_stage.name},
            code="stage_contractor_not_assigned",
        )
    raise StageGuardError(_("You may not move orders."), code="stage_forbidden")


def check_can_move(order: Order, to_stage: Stage, *, by: User | None) -> None:
    """Raise StageGuardError if `by` may not move `order` to `to_stage`; `by=None` is a rule.

    Checks, in order: same pipeline, a real change, who may set the stage (check_may_set_stage),
    the stages it may be entered from (side statuses may be entered from anywhere, and an order in
    a side status may go back where it was), and the fields that must be filled first.
    """
    if to_stage.pipeline_id != order.pipeline_id:
        raise StageGuardError(
            _("“%(stage)s” belongs to another pipeline.") % {"stage": to_stage.name},
            code="stage_other_pipeline",
        )
    if to_stage.pk == order.stage_id:
        raise StageGuardError(
            _("The order is already in “%(stage)s”.") % {"stage": to_stage.name}, code="stage_unchanged"
        )
    if by is not None:
        check_may_set_stage(to_stage, by=by)
    returning = order.stage.is_side and order.return_stage_id == to_stage.pk
    restricted = bool(to_stage.allowed_from) and not to_stage.is_side and not returning
    if restricted and order.stage.key not in to_stage.allowed_from:
        raise StageGuardError(
            _("“%(stage)s” can't be reached from “%(current)s”.")
            % {"stage": to_stage.name, "current": order.stage.name},
            code="stage_not_from_here",
        )
    missing = [key for key in to_stage.required_fields or [] if is_empty((order.fields or {}).get(key))]
    if missing:
        labels = dict(order.pipeline.fields.filter(key__in=missing).values_list("key", "label"))
        names = ", ".join(f"“{labels.get(key, key)}”" for key in missing)
        raise StageGuardError(
            _("Fill in %(fields)s before moving to “%(stage)s”.") % {"fields": names, "stage": to_stage.name},
            code="stage_fields_missing",
        )


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
        data={"to_stage": stage.snapshot()},
    )
    _publish(event)
    return order


def default_audience(stage: Stage) -> str:
    """Who hears of a move into `stage` unless the mover says otherwise: the client if the stage tells them."""
    return OrderEvent.Audience.CLIENT if stage.notify_client else OrderEvent.Audience.INTERNAL


@transaction.atomic
def move_order(
    order: Order, to_stage: Stage, *, by: User | None, reason: str = "", audience: str | None = None
) -> OrderEvent:
    """Move `order` to `to_stage`, recording who, when, from where and why.

    `audience` (an OrderEvent.Audience: internal, client or contractor) says who sees the move on
    the timeline and who automation tells; None takes the stage's default (client when the stage
    notifies the client, else staff only). The event keeps both stages' names, so the timeline
    stays readable after a stage is deleted.

    The order row is locked first, so two people moving the same order at once end with one
    consistent stage and an event for each move that happened; a move that became meaningless
    (already there) is refused with StageGuardError and changes nothing. `by=None` means a rule.
    """
    if audience is not None and audience not in OrderEvent.Audience.values:
        raise ValueError(f"unknown event audience {audience!r}")
    # Lock the order row alone: on PostgreSQL a locked query that joins the stage re-checks the
    # joined row after a concurrent move commits and finds nothing, instead of waiting its turn.
    locked = Order.objects.select_for_update().get(pk=order.pk)
    check_can_move(locked, to_stage, by=by)
    from_stage = locked.stage
    from_stage_entered_at = locked.stage_entered_at
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
        audience=audience or default_audience(to_stage),
        actor=by,
        from_stage=from_stage,
        to_stage=to_stage,
        from_stage_entered_at=from_stage_entered_at,
        message=reason.strip(),
        data={"from_stage": from_stage.snapshot(), "to_stage": to_stage.snapshot()},
    )
    order.stage = to_stage
    order.stage_entered_at = locked.stage_entered_at
    order.return_stage = locked.return_stage
    _publish(event)
    return event


@dataclass
class BulkMoveResult:
    """What a bulk move did: the orders moved, and each one refused with the reason (none are dropped)."""

    to_stage: Stage
    moved: list[Order] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (reference or id, reason)


def move_orders(
    orders: Iterable[Order], to_stage: Stage, *, by: User | None, reason: str = ""
) -> BulkMoveResult:
    """Move each order through move_order, one transaction each, so one refusal never undoes the others.

    Not atomic on purpose: a bulk move of fifty orders where three are refused by their guards moves
    the other forty-seven and reports the three with their reasons.
    """
    result = BulkMoveResult(to_stage=to_stage)
    for order in orders:
        try:
            move_order(order, to_stage, by=by, reason=reason)
        except DomainError as error:
            result.refused.append((order.reference, error.message))
        else:
            result.moved.append(order)
    return result


def leave_side_status(order: Order, *, by: User | None, reason: str = "") -> OrderEvent:
    """Take an order out of its side status (On hold, …) back to the stage it was in before."""
    if not order.stage.is_side or order.return_stage is None:
        raise StageGuardError(_("The order is not in a side status."), code="not_in_side_status")
    return move_order(order, order.return_stage, by=by, reason=reason)


_UNSET: Any = object()


@transaction.atomic
def update_order(
    order: Order,
    *,
    by: User | None,
    title: str = _UNSET,
    owner: User | None = _UNSET,
    value: Decimal | None = _UNSET,
    due_date: datetime.date | None = _UNSET,
    fields: dict[str, Any] = _UNSET,
    tags: list[str] = _UNSET,
    watchers: list[User] = _UNSET,
) -> Order:
    """Change an order's details; only the arguments given are touched.

    Custom field values are validated against the pipeline's definitions (CustomFieldError names
    each wrong field; nothing is saved). One internal OrderEvent lists what changed, from and to.
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    changes: dict[str, list[Any]] = {}
    # Custom fields' labels as they were, so the timeline can name a field deleted later.
    labels: dict[str, str] = {}

    def change(name: str, old: Any, new: Any) -> None:
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]

    if title is not _UNSET:
        title = title.strip()
        if not title:
            raise OrderInputError(_("Give the order a title."), code="title_missing")
        change("title", locked.title, title)
        locked.title = title
    if owner is not _UNSET:
        change("owner", str(locked.owner or ""), str(owner or ""))
        locked.owner = owner
    if value is not _UNSET:
        if value is not None and value < 0:
            raise OrderInputError(_("An order's value cannot be negative."), code="value_negative")
        change("value", locked.value, value)
        locked.value = value
    if due_date is not _UNSET:
        change("due_date", locked.due_date, due_date)
        locked.due_date = due_date
    if fields is not _UNSET:
        definitions = list(locked.pipeline.fields.all())
        cleaned = clean_values(definitions, fields, default_currency=locked.pipeline.currency)
        by_key = {definition.key: definition for definition in definitions}
        for key in sorted(set(cleaned) | set(locked.fields or {})):
            change(f"fields.{key}", (locked.fields or {}).get(key), cleaned.get(key))
            if f"fields.{key}" in changes and key in by_key:
                labels[f"fields.{key}"] = by_key[key].label
        locked.fields = cleaned
    locked.save()
    if tags is not _UNSET:
        names = sorted({name.strip() for name in tags if name.strip()})
        if any(len(name) > 60 for name in names):
            raise OrderInputError(_("A tag has at most 60 characters."), code="tag_too_long")
        before = sorted(locked.tags.values_list("name", flat=True))
        tag_objects = [Tag.objects.get_or_create(name=name)[0] for name in names]
        locked.tags.set(tag_objects)
        change("tags", before, names)
    if watchers is not _UNSET:
        before_watchers = sorted(str(user) for user in locked.watchers.all())
        locked.watchers.set(watchers)
        change("watchers", before_watchers, sorted(str(user) for user in watchers))
    if changes:
        event = OrderEvent.objects.create(
            order=locked,
            kind=OrderEvent.Kind.UPDATED,
            audience=OrderEvent.Audience.INTERNAL,
            actor=by,
            data={"changes": changes, "labels": labels} if labels else {"changes": changes},
        )
        _publish(event)
    return locked


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
