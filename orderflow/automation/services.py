"""Writes of automation settings: rules and reminder sequences, checked before they are saved."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from orderflow.automation.definitions import (
    DEFAULT_MATCH,
    DEFAULT_STOPS,
    Problem,
    check_rule,
    check_sequence,
    parse_time,
)
from orderflow.automation.models import ReminderSequence, Rule
from orderflow.automation.provisions import provide_for_actions
from orderflow.errors import DomainError
from orderflow.pipelines.models import Pipeline


class AutomationDefinitionError(DomainError):
    """A rule or sequence that names something missing or is malformed; `problems` lists (path, message)."""

    code = "automation_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"{path}: {message}" if path else message for path, message in problems]
        super().__init__("\n".join([_("This cannot be saved:"), *lines]))


def rule_fields(cleaned: dict[str, Any]) -> dict[str, Any]:
    """Model field values of a checked rule definition."""
    return {
        "name": cleaned["name"],
        "is_active": cleaned.get("active", True),
        "trigger": cleaned["trigger"],
        "conditions": cleaned.get("conditions", []),
        "actions": cleaned["actions"],
    }


def sequence_fields(cleaned: dict[str, Any]) -> dict[str, Any]:
    """Model field values of a checked reminder sequence definition."""
    start = cleaned["start"]
    return {
        "name": cleaned["name"],
        "is_active": cleaned.get("active", True),
        "start_kind": start,
        "start_stage": cleaned.get("stage", ""),
        "start_form": cleaned.get("form", ""),
        "stop_kinds": cleaned.get("stops", DEFAULT_STOPS[start]),
        "match_key": DEFAULT_MATCH[start],
        "send_at": parse_time(cleaned.get("send_at", "09:00")),
        "escalate": cleaned.get("escalate", True),
        "steps": cleaned["steps"],
    }


@transaction.atomic
def save_rule(pipeline: Pipeline, definition: dict[str, Any], *, rule: Rule | None = None) -> Rule:
    """Create a rule (or replace `rule`'s definition); AutomationDefinitionError lists every problem.

    A starter form or kind of call the rule names and that is missing is added (automation.provisions).
    """
    cleaned, problems = check_rule(definition, pipeline=pipeline)
    key = str(cleaned.get("key") or "")
    if key and Rule.objects.filter(pipeline=pipeline, key=key).exclude(pk=rule.pk if rule else 0).exists():
        problems.append(("key", _("another rule of this pipeline has the key %(key)r") % {"key": key}))
    if problems:
        raise AutomationDefinitionError(problems)
    provide_for_actions(cleaned["actions"])
    if rule is None:
        position = Rule.objects.filter(pipeline=pipeline).count()
        return Rule.objects.create(pipeline=pipeline, key=key, position=position, **rule_fields(cleaned))
    for name, value in {"key": key, **rule_fields(cleaned)}.items():
        setattr(rule, name, value)
    rule.save()
    return rule


@transaction.atomic
def save_sequence(
    pipeline: Pipeline, definition: dict[str, Any], *, sequence: ReminderSequence | None = None
) -> ReminderSequence:
    """Create a reminder sequence (or replace `sequence`'s); AutomationDefinitionError lists every problem.

    Reminders already running keep their dates; new steps and texts apply to the steps still to send.
    """
    cleaned, problems = check_sequence(definition, pipeline=pipeline)
    key = str(cleaned.get("key") or "")
    taken = ReminderSequence.objects.filter(pipeline=pipeline, key=key).exclude(
        pk=sequence.pk if sequence else 0
    )
    if key and taken.exists():
        problems.append(
            ("key", _("another reminder sequence of this pipeline has the key %(key)r") % {"key": key})
        )
    if problems:
        raise AutomationDefinitionError(problems)
    if sequence is None:
        return ReminderSequence.objects.create(pipeline=pipeline, key=key, **sequence_fields(cleaned))
    for name, value in {"key": key, **sequence_fields(cleaned)}.items():
        setattr(sequence, name, value)
    sequence.save()
    return sequence


@transaction.atomic
def delete_rule(rule: Rule) -> None:
    """Remove a rule; its run log goes with it, actions it already took stay on the timeline."""
    rule.delete()


def rule_definition(rule: Rule) -> dict[str, Any]:
    """The rule as a definition (the editor's text and the process template's entry), defaults left out."""
    definition: dict[str, Any] = {"key": rule.key, "name": rule.name}
    if not rule.is_active:
        definition["active"] = False
    definition["trigger"] = rule.trigger
    if rule.conditions:
        definition["conditions"] = rule.conditions
    definition["actions"] = rule.actions
    return definition


def sequence_definition(sequence: ReminderSequence) -> dict[str, Any]:
    """The sequence as a definition (the editor's text and the process template's entry), defaults left out."""
    definition: dict[str, Any] = {"key": sequence.key, "name": sequence.name}
    if not sequence.is_active:
        definition["active"] = False
    definition["start"] = sequence.start_kind
    if sequence.start_stage:
        definition["stage"] = sequence.start_stage
    if sequence.start_form:
        definition["form"] = sequence.start_form
    if list(sequence.stop_kinds) != DEFAULT_STOPS.get(sequence.start_kind):
        definition["stops"] = list(sequence.stop_kinds)
    send_at = sequence.send_at.strftime("%H:%M")
    if send_at != "09:00":
        definition["send_at"] = send_at
    if not sequence.escalate:
        definition["escalate"] = False
    definition["steps"] = sequence.steps
    return definition
