"""Services that change how a pipeline works: the pipeline itself, its stages and its custom fields."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from itertools import batched
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orderflow.accounts.models import Language, User
from orderflow.accounts.roles import Role
from orderflow.errors import DomainError
from orderflow.pipelines.models import (
    FieldDefinition,
    Order,
    OrderEvent,
    Pipeline,
    Stage,
    color_validator,
    currency_validator,
    prefix_validator,
)

KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
KEY_MAX_LENGTH = 60
MAX_DAYS_LIMIT = 3650
MAX_CHOICES = 100
# Rows written per statement by bulk operations, so deleting a stage with 10 000 orders takes ~40 queries.
BATCH_SIZE = 500
# Languages a stage's client label can be given in besides English (the label itself).
TRANSLATED_LANGUAGES: tuple[str, ...] = tuple(code for code in Language.values if code != Language.ENGLISH)
# Roles a stage may name as the ones who set it by hand: the staff roles, and the contractor working on
# the order (the author of seed 004 sends the work for review). Never the client: a client's answer,
# booking or payment moves an order through a rule, not by hand.
STAGE_ROLES: tuple[str, ...] = (*Role.STAFF, Role.CONTRACTOR)


class PipelineConfigError(DomainError):
    """A change to a pipeline's settings was refused. Nothing was changed."""

    code = "pipeline_config"


class ConfigInputError(PipelineConfigError):
    """Some submitted values are wrong; `errors` maps input names (the settings' attributes) to messages."""

    code = "config_invalid"

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class ConfigRefusedError(PipelineConfigError):
    """The values are fine, but the change would break orders or other settings (a field still in use)."""

    code = "config_refused"


class ConfigForbiddenError(PipelineConfigError):
    code = "config_forbidden"


@dataclass(frozen=True)
class PipelineSettings:
    """What an admin sets on a pipeline. An empty slug is made from the name."""

    name: str
    number_prefix: str
    slug: str = ""
    currency: str = "EUR"
    description: str = ""


@dataclass(frozen=True)
class StageSettings:
    """What an admin sets on a stage. An empty key is made from the name; empty lists mean "no restriction"."""

    name: str
    key: str = ""
    client_label: str = ""
    client_label_translations: Mapping[str, str] = dataclass_field(default_factory=dict)
    client_description: str = ""
    client_description_translations: Mapping[str, str] = dataclass_field(default_factory=dict)
    category: str = Stage.Category.OPEN
    color: str = "#64748b"
    is_side: bool = False
    notify_client: bool = True
    allowed_roles: Sequence[str] = ()
    allowed_from: Sequence[str] = ()
    required_fields: Sequence[str] = ()
    max_days: int | None = None


@dataclass(frozen=True)
class FieldSettings:
    """What an admin sets on a custom field. `choices` matter only for the choice type."""

    label: str
    key: str = ""
    kind: str = FieldDefinition.Kind.TEXT
    is_required: bool = False
    choices: Sequence[str] = ()
    help_text: str = ""


# Checks without I/O: each returns the values tidied up and a dict of input name -> message.


def check_key(key: str, *, taken: Collection[str]) -> str | None:
    """Why `key` cannot name a stage or field of a pipeline, or None. Rules, templates and the API use keys."""
    if not key:
        return _("Give it a key: lower-case letters, digits and hyphens.")
    if len(key) > KEY_MAX_LENGTH:
        return _("At most %(count)d characters.") % {"count": KEY_MAX_LENGTH}
    if not KEY_PATTERN.match(key):
        return _("Use lower-case letters, digits and single hyphens, e.g. design-review.")
    if key in taken:
        return _("“%(key)s” is already used in this pipeline.") % {"key": key}
    return None


def check_stage_role(role: str) -> str | None:
    """Why `role` cannot be among those who set a stage by hand, or None (templates and Settings alike)."""
    if role == Role.CLIENT:
        return _(
            "Clients do not set stages by hand; a rule moves the order when the client answers, books or pays."
        )
    if role not in STAGE_ROLES:
        return _("“%(role)s” is not a role that sets stages; use %(roles)s.") % {
            "role": role,
            "roles": ", ".join(STAGE_ROLES),
        }
    return None


def _check_text(errors: dict[str, str], name: str, value: str, *, limit: int, required: bool = False) -> None:
    if required and not value:
        errors[name] = _("This cannot be empty.")
    elif len(value) > limit:
        errors[name] = _("At most %(count)d characters.") % {"count": limit}


def _check_pattern(errors: dict[str, str], name: str, value: str, validator: RegexValidator) -> None:
    try:
        validator(value)
    except ValidationError as error:
        errors[name] = str(error.messages[0])


def check_pipeline_settings(values: PipelineSettings) -> tuple[PipelineSettings, dict[str, str]]:
    """Tidy (trim, case) and check the format of a pipeline's settings; uniqueness is the service's job."""
    values = PipelineSettings(
        name=values.name.strip(),
        slug=(values.slug.strip() or slugify(values.name))[:KEY_MAX_LENGTH].lower(),
        number_prefix=values.number_prefix.strip().upper(),
        currency=values.currency.strip().upper(),
        description=values.description.strip(),
    )
    errors: dict[str, str] = {}
    _check_text(errors, "name", values.name, limit=120, required=True)
    if (values.slug or values.name) and not KEY_PATTERN.match(values.slug):
        errors["slug"] = _("Use lower-case letters, digits and single hyphens, e.g. website.")
    _check_pattern(errors, "number_prefix", values.number_prefix, prefix_validator)
    _check_pattern(errors, "currency", values.currency, currency_validator)
    _check_text(errors, "description", values.description, limit=2000)
    return values, errors


def check_stage_settings(
    values: StageSettings, *, other_stage_keys: Collection[str], field_keys: Collection[str]
) -> tuple[StageSettings, dict[str, str]]:
    """Tidy and check a stage's settings against its pipeline's other stage keys and field keys."""
    translations = {
        language: str(label).strip()
        for language, label in values.client_label_translations.items()
        if str(label).strip()
    }
    description_translations = {
        language: str(text).strip()
        for language, text in values.client_description_translations.items()
        if str(text).strip()
    }
    values = replace(
        values,
        name=values.name.strip(),
        key=(values.key.strip() or slugify(values.name))[:KEY_MAX_LENGTH].lower(),
        client_label=values.client_label.strip(),
        client_label_translations=translations,
        client_description=values.client_description.strip(),
        client_description_translations=description_translations,
        color=values.color.strip().lower(),
        allowed_roles=list(dict.fromkeys(values.allowed_roles)),
        allowed_from=list(dict.fromkeys(key.strip() for key in values.allowed_from)),
        required_fields=list(dict.fromkeys(key.strip() for key in values.required_fields)),
    )
    errors: dict[str, str] = {}
    _check_text(errors, "name", values.name, limit=120, required=True)
    if problem := check_key(values.key, taken=other_stage_keys):
        errors["key"] = problem
    _check_text(errors, "client_label", values.client_label, limit=120)
    for language, label in translations.items():
        if language not in TRANSLATED_LANGUAGES:
            errors["client_label_translations"] = _("No labels in “%(language)s”.") % {"language": language}
        else:
            _check_text(errors, f"client_label_{language}", label, limit=120)
    _check_text(errors, "client_description", values.client_description, limit=300)
    for language, text in description_translations.items():
        if language not in TRANSLATED_LANGUAGES:
            errors["client_description_translations"] = _("No descriptions in “%(language)s”.") % {
                "language": language
            }
        else:
            _check_text(errors, f"client_description_{language}", text, limit=300)
    if values.category not in Stage.Category.values:
        errors["category"] = _("Pick one of the categories.")
    _check_pattern(errors, "color", values.color, color_validator)
    if problems := [problem for role in values.allowed_roles if (problem := check_stage_role(role))]:
        errors["allowed_roles"] = problems[0]
    if values.key in values.allowed_from:
        errors["allowed_from"] = _("A stage cannot be entered from itself.")
    elif unknown := [key for key in values.allowed_from if key not in other_stage_keys]:
        errors["allowed_from"] = _("This pipeline has no stages %(keys)s.") % {"keys": ", ".join(unknown)}
    if unknown := [key for key in values.required_fields if key not in field_keys]:
        errors["required_fields"] = _("This pipeline has no fields %(keys)s.") % {"keys": ", ".join(unknown)}
    if values.max_days is not None and not 1 <= values.max_days <= MAX_DAYS_LIMIT:
        errors["max_days"] = _("Between 1 and %(limit)d days, or empty for no limit.") % {
            "limit": MAX_DAYS_LIMIT
        }
    return values, errors


def check_field_settings(
    values: FieldSettings, *, other_field_keys: Collection[str]
) -> tuple[FieldSettings, dict[str, str]]:
    """Tidy and check a custom field's settings; choices are kept only for the choice type."""
    choices = [choice.strip() for choice in values.choices if choice.strip()]
    values = replace(
        values,
        label=values.label.strip(),
        key=(values.key.strip() or slugify(values.label))[:KEY_MAX_LENGTH].lower(),
        choices=list(dict.fromkeys(choices)) if values.kind == FieldDefinition.Kind.CHOICE else [],
        help_text=values.help_text.strip(),
    )
    errors: dict[str, str] = {}
    _check_text(errors, "label", values.label, limit=120, required=True)
    if problem := check_key(values.key, taken=other_field_keys):
        errors["key"] = problem
    if values.kind not in FieldDefinition.Kind.values:
        errors["kind"] = _("Pick one of the types.")
    if values.kind == FieldDefinition.Kind.CHOICE:
        if not values.choices:
            errors["choices"] = _("Give at least one choice, one per line.")
        elif len(values.choices) != len(choices):
            errors["choices"] = _("Each choice may appear only once.")
        elif len(values.choices) > MAX_CHOICES:
            errors["choices"] = _("At most %(count)d choices.") % {"count": MAX_CHOICES}
        elif any(len(choice) > 120 for choice in values.choices):
            errors["choices"] = _("Each choice may have at most 120 characters.")
    _check_text(errors, "help_text", values.help_text, limit=300)
    return values, errors


def _require(by: User | None, permission: str) -> None:
    """`by=None` is the system itself (CLI, imports); a person needs the permission."""
    if by is not None and not by.has_perm(permission):
        raise ConfigForbiddenError(_("You may not change pipeline settings."))


def _lock(pipeline: Pipeline) -> Pipeline:
    """Lock the pipeline row: every settings change of one pipeline happens one at a time."""
    return Pipeline.objects.select_for_update().get(pk=pipeline.pk)


def _next_position(queryset: QuerySet[Any]) -> int:
    highest = queryset.aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


def _reposition[Positioned: (Stage, FieldDefinition)](
    items: Sequence[Positioned], ordered_ids: Sequence[int]
) -> None:
    """Give `items` the positions of `ordered_ids`, which must name each of them exactly once."""
    if sorted(ordered_ids) != sorted(item.pk for item in items):
        raise ConfigRefusedError(
            _("The list changed while you were sorting it. Reload the page and try again."),
            code="order_outdated",
        )
    by_id = {item.pk: item for item in items}
    changed = []
    for position, item_id in enumerate(ordered_ids):
        item = by_id[item_id]
        if item.position != position:
            item.position = position
            changed.append(item)
    if changed:
        type(changed[0]).objects.bulk_update(changed, ["position"], batch_size=BATCH_SIZE)


def _shifted(ids: list[int], item_id: int, steps: int) -> list[int]:
    """`ids` with `item_id` moved `steps` places (negative: up), stopping at either end."""
    index = ids.index(item_id)
    target = max(0, min(len(ids) - 1, index + steps))
    ids.insert(target, ids.pop(index))
    return ids


# Pipelines


def _save_pipeline(pipeline: Pipeline, update_fields: list[str] | None = None) -> None:
    """Save, turning a lost race for a unique slug or prefix into the same message as the check."""
    try:
        with transaction.atomic():
            pipeline.save(update_fields=update_fields)
    except IntegrityError:
        raise ConfigInputError(
            {"slug": _("Another pipeline took this short name or number prefix just now. Try again.")}
        ) from None


def _pipeline_uniqueness_errors(values: PipelineSettings, *, exclude: int | None) -> dict[str, str]:
    others = Pipeline.objects.all() if exclude is None else Pipeline.objects.exclude(pk=exclude)
    errors = {}
    if others.filter(slug=values.slug).exists():
        errors["slug"] = _("Another pipeline is called “%(slug)s”.") % {"slug": values.slug}
    if others.filter(number_prefix=values.number_prefix).exists():
        errors["number_prefix"] = _("Another pipeline numbers its orders %(prefix)s-….") % {
            "prefix": values.number_prefix
        }
    return errors


@transaction.atomic
def create_pipeline(values: PipelineSettings, *, by: User | None) -> Pipeline:
    """A new, active pipeline without stages yet (add them next)."""
    _require(by, "pipelines.add_pipeline")
    values, errors = check_pipeline_settings(values)
    errors = _pipeline_uniqueness_errors(values, exclude=None) | errors
    if errors:
        raise ConfigInputError(errors)
    pipeline = Pipeline(
        name=values.name,
        slug=values.slug,
        number_prefix=values.number_prefix,
        currency=values.currency,
        description=values.description,
    )
    _save_pipeline(pipeline)
    return pipeline


@transaction.atomic
def update_pipeline(pipeline: Pipeline, values: PipelineSettings, *, by: User | None) -> Pipeline:
    """Change a pipeline's settings. The number prefix is fixed once orders carry numbers with it,
    because people quote those numbers (WEB-00042) in e-mail and on invoices."""
    _require(by, "pipelines.change_pipeline")
    locked = _lock(pipeline)
    values, errors = check_pipeline_settings(values)
    errors = _pipeline_uniqueness_errors(values, exclude=locked.pk) | errors
    if values.number_prefix != locked.number_prefix and "number_prefix" not in errors and locked.last_number:
        errors["number_prefix"] = _(
            "Orders are already numbered %(prefix)s-…; the prefix cannot change any more."
        ) % {"prefix": locked.number_prefix}
    if errors:
        raise ConfigInputError(errors)
    for name in ("name", "slug", "number_prefix", "currency", "description"):
        setattr(locked, name, getattr(values, name))
    _save_pipeline(locked, update_fields=["name", "slug", "number_prefix", "currency", "description"])
    pipeline.refresh_from_db()
    return pipeline


@transaction.atomic
def set_pipeline_active(pipeline: Pipeline, *, is_active: bool, by: User | None) -> Pipeline:
    """Deactivate (no new orders; existing orders carry on) or reactivate a pipeline. Idempotent."""
    _require(by, "pipelines.change_pipeline")
    locked = _lock(pipeline)
    if locked.is_active != is_active:
        locked.is_active = is_active
        locked.save(update_fields=["is_active"])
    pipeline.is_active = is_active
    return pipeline


# Stages


def _apply_stage_values(stage: Stage, values: StageSettings) -> list[str]:
    columns = {
        "name": values.name,
        "key": values.key,
        "client_label": values.client_label,
        "client_label_translations": dict(values.client_label_translations),
        "client_description": values.client_description,
        "client_description_translations": dict(values.client_description_translations),
        "category": values.category,
        "color": values.color,
        "is_side": values.is_side,
        "notify_client": values.notify_client,
        "allowed_roles": list(values.allowed_roles),
        "allowed_from": list(values.allowed_from),
        "required_fields": list(values.required_fields),
        "max_days": values.max_days,
    }
    for name, value in columns.items():
        setattr(stage, name, value)
    return list(columns)


@transaction.atomic
def create_stage(pipeline: Pipeline, values: StageSettings, *, by: User | None) -> Stage:
    """Add a stage at the end of the pipeline."""
    _require(by, "pipelines.add_stage")
    locked = _lock(pipeline)
    values, errors = check_stage_settings(
        values,
        other_stage_keys=set(locked.stages.values_list("key", flat=True)),
        field_keys=set(locked.fields.values_list("key", flat=True)),
    )
    if errors:
        raise ConfigInputError(errors)
    stage = Stage(pipeline=locked, position=_next_position(locked.stages.all()))
    _apply_stage_values(stage, values)
    stage.save()
    return stage


@transaction.atomic
def update_stage(stage: Stage, values: StageSettings, *, by: User | None) -> Stage:
    """Change a stage. A new key is also written into other stages' "may be entered from" lists."""
    _require(by, "pipelines.change_stage")
    locked = _lock(stage.pipeline)
    others = list(locked.stages.exclude(pk=stage.pk))
    values, errors = check_stage_settings(
        values,
        other_stage_keys={other.key for other in others},
        field_keys=set(locked.fields.values_list("key", flat=True)),
    )
    if errors:
        raise ConfigInputError(errors)
    old_key = Stage.objects.values_list("key", flat=True).get(pk=stage.pk)
    stage.save(update_fields=_apply_stage_values(stage, values))
    if old_key != values.key:
        renamed = [other for other in others if old_key in other.allowed_from]
        for other in renamed:
            other.allowed_from = [values.key if key == old_key else key for key in other.allowed_from]
        Stage.objects.bulk_update(renamed, ["allowed_from"])
    return stage


@transaction.atomic
def reorder_stages(pipeline: Pipeline, stage_ids: Sequence[int], *, by: User | None) -> None:
    """Put the pipeline's stages in the order of `stage_ids` (every stage exactly once)."""
    _require(by, "pipelines.change_stage")
    locked = _lock(pipeline)
    _reposition(list(locked.stages.order_by("position", "id")), stage_ids)


@transaction.atomic
def shift_stage(stage: Stage, *, steps: int, by: User | None) -> None:
    """Move a stage `steps` places down (negative: up); at either end it stays where it is."""
    _require(by, "pipelines.change_stage")
    locked = _lock(stage.pipeline)
    stages = list(locked.stages.order_by("position", "id"))
    _reposition(stages, _shifted([item.pk for item in stages], stage.pk, steps))


def stage_deletion_impact(stage: Stage) -> tuple[int, int]:
    """(orders in the stage, orders in a side status that would return to it): both need a new home."""
    return Order.objects.filter(stage=stage).count(), Order.objects.filter(return_stage=stage).count()


@transaction.atomic
def delete_stage(stage: Stage, *, move_orders_to: Stage | None, by: User | None) -> int:
    """Delete a stage, first moving its orders to `move_orders_to`; returns how many orders moved.

    Each moved order gets an internal "stage changed" event naming the deleted stage. The events are
    not handed to automation: deleting a stage reorganises the pipeline, nothing happened to the
    orders that a client should hear about. Orders on hold that would return to the deleted stage
    return to `move_orders_to` instead (or to nothing, if that is itself a side status). Other stages
    lose the deleted key from their "may be entered from" lists. Work is done in batches, so
    thousands of orders take tens of queries, not thousands.
    """
    _require(by, "pipelines.delete_stage")
    locked = _lock(stage.pipeline)
    stages = list(locked.stages.all())
    if not any(item.pk == stage.pk for item in stages):
        raise ConfigRefusedError(_("This stage was deleted already."), code="stage_gone")
    if len(stages) == 1:
        raise ConfigRefusedError(
            _("“%(stage)s” is the pipeline's only stage; add another one before deleting it.")
            % {"stage": stage.name},
            code="stage_last",
        )
    if move_orders_to is not None:
        if move_orders_to.pipeline_id != locked.pk:
            raise ConfigInputError({"move_orders_to": _("That stage belongs to another pipeline.")})
        if move_orders_to.pk == stage.pk:
            raise ConfigInputError({"move_orders_to": _("Pick a stage other than the one being deleted.")})
    order_ids = list(Order.objects.select_for_update().filter(stage=stage).values_list("pk", flat=True))
    returning = Order.objects.filter(return_stage=stage)
    if move_orders_to is None and (order_ids or returning.exists()):
        raise ConfigInputError(
            {"move_orders_to": _("Orders are in this stage or would return to it: pick where they go.")}
        )
    now = timezone.now()
    if move_orders_to is not None:
        returning.update(return_stage=None if move_orders_to.is_side else move_orders_to, updated_at=now)
        changes: dict[str, Any] = {"stage": move_orders_to, "stage_entered_at": now, "updated_at": now}
        if not move_orders_to.is_side:
            changes["return_stage"] = None
        for chunk in batched(order_ids, BATCH_SIZE):
            Order.objects.filter(pk__in=chunk).update(**changes)
        message = _("Stage “%(stage)s” was deleted.") % {"stage": stage.name}
        deleted = {"id": stage.pk, "key": stage.key, "name": stage.name}
        OrderEvent.objects.bulk_create(
            [
                OrderEvent(
                    order_id=order_id,
                    kind=OrderEvent.Kind.STAGE_CHANGED,
                    audience=OrderEvent.Audience.INTERNAL,
                    actor=by,
                    to_stage=move_orders_to,
                    message=message,
                    data={
                        "deleted_stage": deleted,
                        "from_stage": deleted,
                        "to_stage": move_orders_to.snapshot(),
                    },
                    created_at=now,
                )
                for order_id in order_ids
            ],
            batch_size=BATCH_SIZE,
        )
    referring = [item for item in stages if stage.key in item.allowed_from and item.pk != stage.pk]
    for item in referring:
        item.allowed_from = [key for key in item.allowed_from if key != stage.key]
    Stage.objects.bulk_update(referring, ["allowed_from"])
    try:
        stage.delete()
    except ProtectedError:
        raise ConfigRefusedError(
            _("An order entered “%(stage)s” while it was being deleted. Try again.") % {"stage": stage.name},
            code="stage_busy",
        ) from None
    return len(order_ids)


# Custom fields


def orders_with_value(pipeline: Pipeline, key: str) -> QuerySet[Order]:
    """Orders of `pipeline` holding a (non-null) value for the field `key`."""
    return (
        Order.objects.filter(pipeline=pipeline, fields__has_key=key)
        .alias(field_value=KeyTransform(key, "fields"))
        .exclude(field_value=None)
    )


def _apply_field_values(field: FieldDefinition, values: FieldSettings) -> list[str]:
    columns = {
        "label": values.label,
        "key": values.key,
        "kind": values.kind,
        "is_required": values.is_required,
        "choices": list(values.choices),
        "help_text": values.help_text,
    }
    for name, value in columns.items():
        setattr(field, name, value)
    return list(columns)


@transaction.atomic
def create_field(pipeline: Pipeline, values: FieldSettings, *, by: User | None) -> FieldDefinition:
    """Add a custom field at the end of the pipeline's fields."""
    _require(by, "pipelines.change_pipeline")
    locked = _lock(pipeline)
    values, errors = check_field_settings(
        values, other_field_keys=set(locked.fields.values_list("key", flat=True))
    )
    if errors:
        raise ConfigInputError(errors)
    field = FieldDefinition(pipeline=locked, position=_next_position(locked.fields.all()))
    _apply_field_values(field, values)
    field.save()
    return field


@transaction.atomic
def update_field(field: FieldDefinition, values: FieldSettings, *, by: User | None) -> FieldDefinition:
    """Change a custom field without invalidating values orders already hold.

    The type and the key cannot change while any order holds a value (a new field is the way), and a
    choice cannot be removed while an order holds it. A new key is written into the stages that
    require the field.
    """
    _require(by, "pipelines.change_pipeline")
    locked = _lock(field.pipeline)
    current = FieldDefinition.objects.get(pk=field.pk)
    values, errors = check_field_settings(
        values, other_field_keys=set(locked.fields.exclude(pk=field.pk).values_list("key", flat=True))
    )
    holding = orders_with_value(locked, current.key)
    changes_meaning = values.kind != current.kind or values.key != current.key
    if not errors and changes_meaning and (count := holding.count()):
        message = ngettext(
            "%(count)d order has a value in “%(field)s”, so its type and key stay as they are. "
            "Add a new field instead.",
            "%(count)d orders have a value in “%(field)s”, so its type and key stay as they are. "
            "Add a new field instead.",
            count,
        ) % {"count": count, "field": current.label}
        errors["kind" if values.kind != current.kind else "key"] = message
    if not errors and current.kind == FieldDefinition.Kind.CHOICE == values.kind:
        removed = [choice for choice in current.choices if choice not in values.choices]
        held = (
            holding.order_by()
            .annotate(choice=KeyTextTransform(current.key, "fields"))
            .values_list("choice", flat=True)
            .distinct()
            if removed
            else []
        )
        in_use = [choice for choice in removed if choice in set(held)]
        if in_use:
            errors["choices"] = _("Orders still hold %(choices)s; keep those choices.") % {
                "choices": ", ".join(f"“{choice}”" for choice in in_use)
            }
    if errors:
        raise ConfigInputError(errors)
    field.save(update_fields=_apply_field_values(field, values))
    if current.key != values.key:
        requiring = [stage for stage in locked.stages.all() if current.key in stage.required_fields]
        for stage in requiring:
            stage.required_fields = [
                values.key if key == current.key else key for key in stage.required_fields
            ]
        Stage.objects.bulk_update(requiring, ["required_fields"])
    return field


@transaction.atomic
def delete_field(field: FieldDefinition, *, by: User | None) -> int:
    """Delete a custom field; returns how many orders lost a value.

    Refused while a stage requires the field. Values orders held are removed from them, and each such
    order gets an internal event keeping the old value, so nothing disappears without a trace.
    """
    _require(by, "pipelines.change_pipeline")
    locked = _lock(field.pipeline)
    requiring = [stage.name for stage in locked.stages.all() if field.key in stage.required_fields]
    if requiring:
        raise ConfigRefusedError(
            ngettext(
                "Stage %(stages)s requires “%(field)s” to enter; remove it there first.",
                "Stages %(stages)s require “%(field)s” to enter; remove it there first.",
                len(requiring),
            )
            % {"stages": ", ".join(f"“{name}”" for name in requiring), "field": field.label},
            code="field_required_by_stage",
        )
    orders = list(
        Order.objects.select_for_update()
        .filter(pipeline=locked, fields__has_key=field.key)
        .only("id", "fields")
    )
    message = _("Field “%(field)s” was deleted.") % {"field": field.label}
    events = []
    for order in orders:
        old_value = order.fields.pop(field.key)
        if old_value is not None:
            events.append(
                OrderEvent(
                    order_id=order.pk,
                    kind=OrderEvent.Kind.UPDATED,
                    audience=OrderEvent.Audience.INTERNAL,
                    actor=by,
                    message=message,
                    data={"deleted_field": {"key": field.key, "label": field.label, "value": old_value}},
                )
            )
    Order.objects.bulk_update(orders, ["fields"], batch_size=BATCH_SIZE)
    OrderEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    field.delete()
    return len(events)


@transaction.atomic
def reorder_fields(pipeline: Pipeline, field_ids: Sequence[int], *, by: User | None) -> None:
    """Put the pipeline's fields in the order of `field_ids` (every field exactly once)."""
    _require(by, "pipelines.change_pipeline")
    locked = _lock(pipeline)
    _reposition(list(locked.fields.order_by("position", "id")), field_ids)


@transaction.atomic
def shift_field(field: FieldDefinition, *, steps: int, by: User | None) -> None:
    """Move a field `steps` places down (negative: up); at either end it stays where it is."""
    _require(by, "pipelines.change_pipeline")
    locked = _lock(field.pipeline)
    fields = list(locked.fields.order_by("position", "id"))
    _reposition(fields, _shifted([item.pk for item in fields], field.pk, steps))
