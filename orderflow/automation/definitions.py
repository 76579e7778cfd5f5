"""What a rule or reminder sequence may say, and the check that refuses one naming a missing thing.

Rules and sequences are plain dicts (the model's JSON fields, a process template's YAML, the staff
editor's text). `check_rule` and `check_sequence` return the cleaned dict and a list of problems,
each (path, message), e.g. ("actions[1].stage", "“launch” is not a stage of …"). Nothing is saved here.
"""

from __future__ import annotations

import datetime
import re
import string
from dataclasses import dataclass
from typing import Any

from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orderflow.accounts.roles import Role
from orderflow.automation.provisions import STARTER_BOOKING_TYPES, starter_form_names
from orderflow.pipelines.models import OrderEvent, Pipeline

Problem = tuple[str, str]

# Trigger kinds of rules. The engine matches all of them, but the last three can never fire yet:
# nothing in the product records a payment, a client's message or a bid deadline. A rule with one
# of them is refused (UNBUILT_TRIGGERS says which part of the product it waits for).
TRIGGERS = (
    "order.created",
    "stage.entered",
    "stage.left",
    "stage.inactive",
    "request.sent",
    "request.submitted",
    "booking.made",
    "booking.cancelled",
    "payment.received",
    "message.received",
    "bid.deadline_passed",
)
UNBUILT_TRIGGERS = {
    "payment.received": gettext_lazy("payments"),
    "message.received": gettext_lazy("messaging (client messages on the order)"),
    "bid.deadline_passed": gettext_lazy("the contractor marketplace (bids)"),
}
STAGE_TRIGGERS = ("stage.entered", "stage.left", "stage.inactive")

ACTIONS = (
    "send_email",
    "send_request",
    "send_booking_invitation",
    "move",
    "assign_owner",
    "create_task",
    "add_tag",
    "webhook",
)

CONDITION_FIELDS = ("stage", "owner", "tags", "client.language", "client.kind", "client.preferred_channel")
OPERATORS = ("equals", "not_equals", "in", "not_in", "is_set", "is_empty", "contains")
UNARY_OPERATORS = ("is_set", "is_empty")

PLACEHOLDERS = (
    "client_name",
    "order_number",
    "order_title",
    "stage",
    "owner_name",
    "organisation",
    "step",
    "steps",
)

# What starts a reminder sequence: a client request sent, a booking link sent (scheduling records
# booking.invited for every link, sent by hand or by a rule's send_booking_invitation action), or the
# order entering a stage.
BOOKING_INVITED = OrderEvent.Kind.BOOKING_INVITED.value
REMINDER_STARTS = ("request.sent", BOOKING_INVITED, "stage.entered")
DEFAULT_STOPS = {
    "request.sent": [OrderEvent.Kind.REQUEST_SUBMITTED.value, OrderEvent.Kind.REQUEST_CANCELLED.value],
    BOOKING_INVITED: [OrderEvent.Kind.BOOKING_MADE.value],
    "stage.entered": [],
}
# The event data that ties an answer to what started the reminders: the same request, the same kind of call.
DEFAULT_MATCH = {"request.sent": "request", BOOKING_INVITED: "booking_type", "stage.entered": ""}
ANSWER_KINDS = (
    OrderEvent.Kind.REQUEST_SUBMITTED.value,
    OrderEvent.Kind.REQUEST_CANCELLED.value,
    OrderEvent.Kind.BOOKING_MADE.value,
    OrderEvent.Kind.PAYMENT_RECEIVED.value,
    OrderEvent.Kind.MESSAGE_RECEIVED.value,
)
KEY_PATTERN = re.compile(r"^[-a-z0-9_]{1,60}$")
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _join(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key


@dataclass(frozen=True)
class PipelineShape:
    """What a definition may name: the pipeline's name, stage keys and field keys (saved or not yet)."""

    name: str
    stage_keys: list[str]
    field_keys: list[str]

    @classmethod
    def of(cls, pipeline: Pipeline) -> PipelineShape:
        return cls(
            name=pipeline.name,
            stage_keys=list(pipeline.stages.order_by("position", "id").values_list("key", flat=True)),
            field_keys=list(pipeline.fields.order_by("position", "id").values_list("key", flat=True)),
        )


class _Checker:
    def __init__(self, shape: PipelineShape) -> None:
        self.pipeline = shape
        self.stage_keys = shape.stage_keys
        self.field_keys = shape.field_keys
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def mapping(
        self, value: Any, path: str, keys: tuple[str, ...], required: tuple[str, ...]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(path, _("expected a mapping"))
            return {}
        for key in value:
            if key not in keys:
                self.problem(
                    _join(path, str(key)),
                    _("unknown key %(key)r; it may have %(keys)s") % {"key": key, "keys": ", ".join(keys)},
                )
        for key in required:
            if key not in value:
                self.problem(_join(path, key), _("missing"))
        return {key: value[key] for key in keys if key in value}

    def text(self, value: Any, path: str) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.problem(path, _("missing"))
            return ""
        if not isinstance(value, str):
            self.problem(path, _("expected text"))
            return ""
        return value

    def stage(self, value: Any, path: str) -> str:
        key = self.text(value, path)
        if key and key not in self.stage_keys:
            self.problem(
                path,
                _("%(key)r is not a stage of “%(pipeline)s”; its stages are %(stages)s")
                % {"key": key, "pipeline": self.pipeline.name, "stages": ", ".join(self.stage_keys)},
            )
        return key

    def days(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 365:
            self.problem(path, _("expected a whole number of business days from 1 to 365"))
            return 0
        return value

    def messages(self, value: Any, path: str) -> dict[str, str]:
        """{language: text} with English required; placeholders must be known ones."""
        if not isinstance(value, dict) or not value:
            self.problem(path, _("expected texts by language, e.g. en: Hello {client_name}"))
            return {}
        cleaned: dict[str, str] = {}
        for language, text in value.items():
            item_path = _join(path, str(language))
            if not isinstance(language, str) or not re.match(r"^[a-z]{2,3}$", language):
                self.problem(
                    item_path, _("%(code)r is not a language code such as en, pt or ru") % {"code": language}
                )
                continue
            content = self.text(text, item_path)
            self.placeholders(content, item_path)
            cleaned[language] = content
        if "en" not in cleaned and not any(p.startswith(path) for p, _m in self.problems):
            self.problem(path, _("an English text (en) is needed; other languages fall back to it"))
        return cleaned

    def placeholders(self, text: str, path: str) -> None:
        try:
            names = [
                name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None
            ]
        except ValueError as error:
            self.problem(path, _("a placeholder is not closed: %(error)s") % {"error": error})
            return
        for name in names:
            if name not in PLACEHOLDERS:
                self.problem(
                    path,
                    _("unknown placeholder {%(name)s}; use %(known)s")
                    % {"name": name, "known": ", ".join("{" + known + "}" for known in PLACEHOLDERS)},
                )

    # rules

    def trigger(self, value: Any, path: str) -> dict[str, Any]:
        entry = self.mapping(value, path, ("kind", "stage", "days"), ("kind",))
        kind = entry.get("kind")
        if "kind" in entry and kind not in TRIGGERS:
            self.problem(
                _join(path, "kind"),
                _("%(kind)r is not one of %(kinds)s") % {"kind": kind, "kinds": ", ".join(TRIGGERS)},
            )
        elif kind in UNBUILT_TRIGGERS:
            self.problem(_join(path, "kind"), unbuilt_message(kind))
        if kind in STAGE_TRIGGERS:
            if "stage" not in entry:
                self.problem(_join(path, "stage"), _("missing; this trigger needs a stage"))
            else:
                self.stage(entry["stage"], _join(path, "stage"))
        elif "stage" in entry:
            self.problem(_join(path, "stage"), _("only stage triggers name a stage"))
        if kind == "stage.inactive":
            if "days" not in entry:
                self.problem(_join(path, "days"), _("missing; say after how many business days"))
            else:
                self.days(entry["days"], _join(path, "days"))
        elif "days" in entry:
            self.problem(_join(path, "days"), _("only the stage.inactive trigger counts days"))
        return entry

    def condition(self, value: Any, path: str) -> dict[str, Any]:
        entry = self.mapping(value, path, ("field", "op", "value"), ("field",))
        field = entry.get("field")
        op = entry.get("op", "equals")
        if field is not None:
            if not isinstance(field, str):
                self.problem(_join(path, "field"), _("expected text"))
            elif field.startswith("fields."):
                if field.removeprefix("fields.") not in self.field_keys:
                    self.problem(
                        _join(path, "field"),
                        _("%(key)r is not a field of “%(pipeline)s”; its fields are %(fields)s")
                        % {
                            "key": field.removeprefix("fields."),
                            "pipeline": self.pipeline.name,
                            "fields": ", ".join(self.field_keys) or "-",
                        },
                    )
            elif field not in CONDITION_FIELDS:
                self.problem(
                    _join(path, "field"),
                    _("%(field)r is not one of %(fields)s or fields.<key>")
                    % {"field": field, "fields": ", ".join(CONDITION_FIELDS)},
                )
        if op not in OPERATORS:
            self.problem(
                _join(path, "op"), _("%(op)r is not one of %(ops)s") % {"op": op, "ops": ", ".join(OPERATORS)}
            )
        elif op in UNARY_OPERATORS:
            if "value" in entry:
                self.problem(_join(path, "value"), _("%(op)s takes no value") % {"op": op})
        elif "value" not in entry:
            self.problem(_join(path, "value"), _("missing"))
        elif op in ("in", "not_in") and not isinstance(entry["value"], list):
            self.problem(_join(path, "value"), _("expected a list"))
        if field == "stage" and "value" in entry:
            values = entry["value"] if isinstance(entry["value"], list) else [entry["value"]]
            for index, stage in enumerate(values):
                self.stage(
                    stage,
                    _join(_join(path, "value"), index)
                    if isinstance(entry["value"], list)
                    else _join(path, "value"),
                )
        return entry

    def action(self, value: Any, path: str) -> dict[str, Any]:
        kind = value.get("type") if isinstance(value, dict) else None
        keys_by_type: dict[str, tuple[str, ...]] = {
            "send_email": ("type", "to", "template", "subject", "body"),
            "send_request": ("type", "form", "message"),
            "send_booking_invitation": ("type", "booking_type"),
            "move": ("type", "stage"),
            "assign_owner": ("type", "group"),
            "create_task": ("type", "title", "due_days"),
            "add_tag": ("type", "tag"),
            "webhook": ("type", "url", "secret", "timeout"),
        }
        if kind not in keys_by_type:
            self.problem(
                _join(path, "type"),
                _("%(type)r is not one of %(types)s") % {"type": kind, "types": ", ".join(ACTIONS)},
            )
            return dict(value) if isinstance(value, dict) else {}
        entry = self.mapping(value, path, keys_by_type[kind], ("type",))
        if kind == "send_email":
            if entry.get("to", "client") not in ("client", "owner"):
                self.problem(_join(path, "to"), _("expected client or owner"))
            if "template" in entry:
                template = self.text(entry["template"], _join(path, "template"))
                if template:
                    try:
                        get_template(f"notifications/email/{template}.txt")
                        get_template(f"notifications/email/{template}_subject.txt")
                    except TemplateDoesNotExist:
                        self.problem(
                            _join(path, "template"),
                            _("there is no e-mail template %(name)r") % {"name": template},
                        )
                if "subject" in entry or "body" in entry:
                    self.problem(path, _("give either a template or a subject and body, not both"))
            else:
                for key in ("subject", "body"):
                    if key not in entry:
                        self.problem(_join(path, key), _("missing; give a template or a subject and body"))
                    else:
                        entry[key] = self.messages(entry[key], _join(path, key))
        elif kind == "send_request":
            name = self.text(entry.get("form"), _join(path, "form"))
            if name and not _form_exists(name) and name not in starter_form_names():
                self.problem(
                    _join(path, "form"),
                    _("there is no request form called “%(name)s” in the library") % {"name": name},
                )
            if "message" in entry:
                self.placeholders(self.text(entry["message"], _join(path, "message")), _join(path, "message"))
        elif kind == "send_booking_invitation":
            name = self.text(entry.get("booking_type"), _join(path, "booking_type"))
            if name and not _booking_type_exists(name) and name not in STARTER_BOOKING_TYPES:
                self.problem(
                    _join(path, "booking_type"),
                    _("there is no kind of call called “%(name)s”") % {"name": name},
                )
        elif kind == "move":
            if "stage" in entry:
                self.stage(entry["stage"], _join(path, "stage"))
            else:
                self.problem(_join(path, "stage"), _("missing"))
        elif kind == "assign_owner":
            if entry.get("group") not in Role.STAFF:
                self.problem(
                    _join(path, "group"), _("expected one of %(roles)s") % {"roles": ", ".join(Role.STAFF)}
                )
        elif kind == "create_task":
            if "title" not in entry:
                self.problem(_join(path, "title"), _("missing"))
            else:
                self.placeholders(self.text(entry["title"], _join(path, "title")), _join(path, "title"))
            if "due_days" in entry:
                self.days(entry["due_days"], _join(path, "due_days"))
        elif kind == "add_tag":
            tag = self.text(entry.get("tag"), _join(path, "tag"))
            if len(tag) > 60:
                self.problem(_join(path, "tag"), _("a tag has at most 60 characters"))
        elif kind == "webhook":
            url = self.text(entry.get("url"), _join(path, "url"))
            if url and not re.match(r"^https?://", url):
                self.problem(_join(path, "url"), _("expected an http:// or https:// address"))
            if "secret" in entry:
                self.text(entry["secret"], _join(path, "secret"))
            timeout = entry.get("timeout", 10)
            if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 60:
                self.problem(_join(path, "timeout"), _("expected whole seconds from 1 to 60"))
        return entry

    def rule(self, value: Any) -> dict[str, Any]:
        entry = self.mapping(
            value,
            "",
            ("key", "name", "active", "trigger", "conditions", "actions"),
            ("key", "name", "trigger", "actions"),
        )
        key = entry.get("key")
        if "key" in entry and (not isinstance(key, str) or not KEY_PATTERN.match(key)):
            self.problem("key", _("use lower-case letters, digits and dashes, e.g. send-questionnaire"))
        if "name" in entry:
            self.text(entry["name"], "name")
        if "active" in entry and not isinstance(entry["active"], bool):
            self.problem("active", _("expected true or false"))
        if "trigger" in entry:
            entry["trigger"] = self.trigger(entry["trigger"], "trigger")
        conditions = entry.get("conditions") or []
        if not isinstance(conditions, list):
            self.problem("conditions", _("expected a list"))
            conditions = []
        entry["conditions"] = [
            self.condition(item, _join("conditions", i)) for i, item in enumerate(conditions)
        ]
        actions = entry.get("actions")
        if "actions" in entry and (not isinstance(actions, list) or not actions):
            self.problem("actions", _("expected a list of at least one action"))
            actions = []
        entry["actions"] = [self.action(item, _join("actions", i)) for i, item in enumerate(actions or [])]
        if not entry["conditions"]:
            entry.pop("conditions")
        return entry

    # reminder sequences

    def sequence(self, value: Any) -> dict[str, Any]:
        keys = ("key", "name", "active", "start", "stage", "form", "stops", "send_at", "escalate", "steps")
        entry = self.mapping(value, "", keys, ("key", "name", "start", "steps"))
        key = entry.get("key")
        if "key" in entry and (not isinstance(key, str) or not KEY_PATTERN.match(key)):
            self.problem("key", _("use lower-case letters, digits and dashes, e.g. questionnaire"))
        if "name" in entry:
            self.text(entry["name"], "name")
        start = entry.get("start")
        if "start" in entry and start not in REMINDER_STARTS:
            self.problem(
                "start",
                _("%(kind)r is not one of %(kinds)s") % {"kind": start, "kinds": ", ".join(REMINDER_STARTS)},
            )
        if "stage" in entry:
            self.stage(entry["stage"], "stage")
        elif start == "stage.entered":
            self.problem("stage", _("missing; say which stage starts the reminders"))
        if "form" in entry:
            name = self.text(entry["form"], "form")
            if start != "request.sent":
                self.problem("form", _("only reminders started by a request can be limited to one form"))
            elif name and not _form_exists(name) and name not in starter_form_names():
                self.problem(
                    "form", _("there is no request form called “%(name)s” in the library") % {"name": name}
                )
        if "stops" in entry:
            stops = entry["stops"]
            if not isinstance(stops, list):
                self.problem("stops", _("expected a list"))
            else:
                for index, kind in enumerate(stops):
                    if kind not in ANSWER_KINDS:
                        self.problem(
                            _join("stops", index),
                            _("%(kind)r is not one of %(kinds)s")
                            % {"kind": kind, "kinds": ", ".join(ANSWER_KINDS)},
                        )
                    elif kind in UNBUILT_TRIGGERS:
                        self.problem(_join("stops", index), unbuilt_message(kind))
        if "send_at" in entry and (
            not isinstance(entry["send_at"], str) or not TIME_PATTERN.match(entry["send_at"])
        ):
            self.problem("send_at", _("expected a time of day such as '09:00'"))
        for flag in ("active", "escalate"):
            if flag in entry and not isinstance(entry[flag], bool):
                self.problem(flag, _("expected true or false"))
        steps = entry.get("steps")
        if "steps" in entry and (not isinstance(steps, list) or not steps):
            self.problem("steps", _("expected a list of at least one step"))
            steps = []
        cleaned_steps = []
        previous = 0
        for index, step in enumerate(steps or []):
            path = _join("steps", index)
            item = self.mapping(step, path, ("days", "subject", "body"), ("days", "subject", "body"))
            if "days" in item:
                days = self.days(item["days"], _join(path, "days"))
                if days and days <= previous:
                    self.problem(_join(path, "days"), _("each step comes after the one before (more days)"))
                previous = days or previous
            for text_key in ("subject", "body"):
                if text_key in item:
                    item[text_key] = self.messages(item[text_key], _join(path, text_key))
            cleaned_steps.append(item)
        entry["steps"] = cleaned_steps
        return entry


def unbuilt_message(kind: str) -> str:
    """Why a rule cannot wait for `kind` yet: which part of the product has to record it first."""
    return _(
        "%(kind)r can never happen yet: nothing in Orderflow records it until %(part)s is built, "
        "so a rule waiting for it would never run"
    ) % {"kind": kind, "part": UNBUILT_TRIGGERS[kind]}


def _form_exists(name: str) -> bool:
    from orderflow.client_requests.models import FormTemplate

    return FormTemplate.objects.filter(name=name, is_template=True).exists()


def _booking_type_exists(name: str) -> bool:
    from orderflow.scheduling.models import BookingType

    return BookingType.objects.filter(name=name).exists()


def check_rule(
    definition: Any, *, pipeline: Pipeline | PipelineShape
) -> tuple[dict[str, Any], list[Problem]]:
    """The rule as it will be stored, and every problem with it (empty: it may be saved)."""
    checker = _Checker(pipeline if isinstance(pipeline, PipelineShape) else PipelineShape.of(pipeline))
    return checker.rule(definition), checker.problems


def check_sequence(
    definition: Any, *, pipeline: Pipeline | PipelineShape
) -> tuple[dict[str, Any], list[Problem]]:
    """The reminder sequence as it will be stored, and every problem with it (empty: it may be saved)."""
    checker = _Checker(pipeline if isinstance(pipeline, PipelineShape) else PipelineShape.of(pipeline))
    return checker.sequence(definition), checker.problems


def parse_time(text: str) -> datetime.time:
    hours, minutes = text.split(":")
    return datetime.time(int(hours), int(minutes))
