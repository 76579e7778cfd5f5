"""Rules and reminder sequences in plain words: the names of triggers, conditions and actions staff read.

The definitions (automation.definitions) speak in keys such as `stage.entered` or `send_request`;
the editor's choices and the Automation page's list speak in sentences such as "When an order
enters a stage" and "move to “Design”". Stage keys are shown by their stage's name when known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orderflow.accounts.models import Contact, Language

TRIGGER_LABELS: dict[str, Promise] = {
    "order.created": gettext_lazy("When an order is created"),
    "stage.entered": gettext_lazy("When an order enters a stage"),
    "stage.left": gettext_lazy("When an order leaves a stage"),
    "stage.inactive": gettext_lazy("When an order has no activity in a stage for some business days"),
    "request.sent": gettext_lazy("When a request is sent to the client"),
    "request.submitted": gettext_lazy("When the client submits a request"),
    "booking.made": gettext_lazy("When the client books a call"),
    "booking.cancelled": gettext_lazy("When a booked call is cancelled"),
    "payment.received": gettext_lazy("When a payment is received"),
    "message.received": gettext_lazy("When the client sends a message"),
    "bid.deadline_passed": gettext_lazy("When a bid deadline passes"),
}

ACTION_LABELS: dict[str, Promise] = {
    "move": gettext_lazy("Move the order to…"),
    "send_request": gettext_lazy("Send the client a request form…"),
    "send_booking_invitation": gettext_lazy("Send the client a booking link…"),
    "send_email": gettext_lazy("Send an e-mail…"),
    "create_task": gettext_lazy("Create a task for the owner…"),
    "assign_owner": gettext_lazy("Give the order an owner from a role…"),
    "add_tag": gettext_lazy("Add a tag…"),
    "webhook": gettext_lazy("Call a webhook (another system)…"),
}

CONDITION_LABELS: dict[str, Promise] = {
    "stage": gettext_lazy("Stage"),
    "owner": gettext_lazy("Owner"),
    "tags": gettext_lazy("Tags"),
    "client.language": gettext_lazy("Client's language"),
    "client.kind": gettext_lazy("Client is a person or a company"),
    "client.preferred_channel": gettext_lazy("Client's preferred channel"),
}

OPERATOR_LABELS: dict[str, Promise] = {
    "equals": gettext_lazy("is"),
    "not_equals": gettext_lazy("is not"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"),
    "contains": gettext_lazy("contains"),
    "is_set": gettext_lazy("is filled in"),
    "is_empty": gettext_lazy("is empty"),
}

START_LABELS: dict[str, Promise] = {
    "request.sent": gettext_lazy("A request is sent to the client"),
    "booking.invited": gettext_lazy("The client is sent a booking link"),
    "stage.entered": gettext_lazy("The order enters a stage"),
}

ANSWER_LABELS: dict[str, Promise] = {
    "request.submitted": gettext_lazy("the client submits the request"),
    "request.cancelled": gettext_lazy("the request is cancelled"),
    "booking.made": gettext_lazy("the client books the call"),
    "payment.received": gettext_lazy("a payment is received"),
    "message.received": gettext_lazy("the client sends a message"),
}

ROLE_LABELS: dict[str, Promise] = {
    "admin": gettext_lazy("Admins"),
    "manager": gettext_lazy("Managers"),
    "rep": gettext_lazy("Reps"),
}

# Values of client conditions that have names: languages, kinds of client, channels.
KNOWN_VALUES: dict[str, list[tuple[str, Any]]] = {
    "client.language": list(Language.choices),
    "client.kind": list(Contact.Kind.choices),
    "client.preferred_channel": list(Contact.Channel.choices),
}

_TRIGGER_WITH_STAGE: dict[str, Promise] = {
    "stage.entered": gettext_lazy("When an order enters “%(stage)s”"),
    "stage.left": gettext_lazy("When an order leaves “%(stage)s”"),
}


class Describer:
    """Sentences about the rules of pipelines whose stage and field names it is given."""

    def __init__(
        self, stage_names: Mapping[str, str] | None = None, field_labels: Mapping[str, str] | None = None
    ) -> None:
        self.stage_names = stage_names or {}
        self.field_labels = field_labels or {}

    def stage(self, key: Any) -> str:
        return str(self.stage_names.get(str(key), key))

    def trigger(self, trigger: Mapping[str, Any]) -> str:
        kind = str(trigger.get("kind", ""))
        if kind in _TRIGGER_WITH_STAGE and trigger.get("stage"):
            return _TRIGGER_WITH_STAGE[kind] % {"stage": self.stage(trigger["stage"])}
        if kind == "stage.inactive" and trigger.get("stage"):
            return _("When an order has no activity in “%(stage)s” for %(days)s business days") % {
                "stage": self.stage(trigger["stage"]),
                "days": trigger.get("days", "?"),
            }
        return str(TRIGGER_LABELS.get(kind, kind))

    def field(self, field: str) -> str:
        if field.startswith("fields."):
            key = field.removeprefix("fields.")
            return str(self.field_labels.get(key, key))
        return str(CONDITION_LABELS.get(field, field))

    def value(self, field: str, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(self.value(field, item) for item in value)
        if field == "stage":
            return f"“{self.stage(value)}”"
        names = dict(KNOWN_VALUES.get(field, []))
        return str(names.get(value, value))

    def condition(self, condition: Mapping[str, Any]) -> str:
        field = str(condition.get("field", ""))
        op = str(condition.get("op", "equals"))
        name = self.field(field)
        words = f"{name if field.startswith('fields.') else name.lower()} {OPERATOR_LABELS.get(op, op)}"
        if "value" in condition:
            words += f" {self.value(field, condition['value'])}"
        return words

    def action(self, action: Mapping[str, Any]) -> str:
        kind = action.get("type")
        if kind == "move":
            return _("move to “%(stage)s”") % {"stage": self.stage(action.get("stage", ""))}
        if kind == "send_request":
            return _("send the request “%(form)s”") % {"form": action.get("form", "")}
        if kind == "send_booking_invitation":
            return _("send a booking link for “%(call)s”") % {"call": action.get("booking_type", "")}
        if kind == "send_email":
            if action.get("to") == "owner":
                return _("e-mail the owner")
            return _("e-mail the client")
        if kind == "create_task":
            return _("create the task “%(title)s”") % {"title": action.get("title", "")}
        if kind == "assign_owner":
            role = str(action.get("group", ""))
            return _("give the order an owner from %(role)s") % {
                "role": str(ROLE_LABELS.get(role, role)).lower()
            }
        if kind == "add_tag":
            return _("add the tag “%(tag)s”") % {"tag": action.get("tag", "")}
        if kind == "webhook":
            return _("call %(url)s") % {"url": action.get("url", "")}
        return str(kind)

    def rule(self, trigger: Mapping[str, Any], conditions: list[Any], actions: list[Any]) -> str:
        """E.g. "When the client submits a request, if stage is “Questionnaire Sent”: move to “Received”"."""
        what = ", ".join(self.action(action) for action in actions if isinstance(action, Mapping))
        when = self.trigger(trigger)
        held = [self.condition(item) for item in conditions if isinstance(item, Mapping)]
        if held:
            return _("%(when)s, if %(conditions)s: %(actions)s") % {
                "when": when,
                "conditions": _(" and ").join(held),
                "actions": what,
            }
        return _("%(when)s: %(actions)s") % {"when": when, "actions": what}

    def start(self, kind: str, stage: str = "") -> str:
        if kind == "stage.entered" and stage:
            return _("The order enters “%(stage)s”") % {"stage": self.stage(stage)}
        label = str(START_LABELS.get(kind, kind))
        if stage:
            return _("%(start)s (while in “%(stage)s”)") % {"start": label, "stage": self.stage(stage)}
        return label
