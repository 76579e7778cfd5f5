"""The structured editor of rules and reminder sequences: posted inputs to a definition dict and back.

The editor builds the very dict the YAML text and process templates hold (automation.definitions),
so the same check and the same save service judge it. Each input's name is the slot of the
definition path it fills ("actions[1].stage" is the input `action-1-stage`), which is how a
problem the check reports is shown next to the input it names. Everything typed is kept in the
dict, even what is wrong (a day count "ten" stays "ten"), so a refused form comes back as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.utils import get_app_template_dirs
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from orderflow.accounts.models import Language, User
from orderflow.accounts.roles import Role
from orderflow.automation.definitions import (
    ACTIONS,
    ANSWER_KINDS,
    CONDITION_FIELDS,
    DEFAULT_STOPS,
    REMINDER_STARTS,
    STAGE_TRIGGERS,
    TRIGGERS,
    UNARY_OPERATORS,
    UNBUILT_TRIGGERS,
    Problem,
)
from orderflow.automation.describe import (
    ACTION_LABELS,
    ANSWER_LABELS,
    CONDITION_LABELS,
    KNOWN_VALUES,
    OPERATOR_LABELS,
    ROLE_LABELS,
    START_LABELS,
    TRIGGER_LABELS,
)
from orderflow.automation.provisions import STARTER_BOOKING_TYPES, starter_form_names
from orderflow.pipelines.models import Pipeline

LANGUAGES = [code for code, _name in Language.choices]  # English first: it is the one required
LIST_OPERATORS = ("in", "not_in")
Options = list[tuple[str, str]]


# What a pipeline's definitions may name, as the options of the editor's selects.


@dataclass
class Vocabulary:
    stages: Options
    fields: list[dict[str, Any]]  # {"key", "label", "kind", "choices"}
    owners: Options
    forms: list[str]
    booking_types: list[str]
    email_templates: list[str]

    @classmethod
    def of(cls, pipeline: Pipeline | None) -> Vocabulary:
        from orderflow.client_requests.models import FormTemplate
        from orderflow.scheduling.models import BookingType

        stages: Options = []
        fields: list[dict[str, Any]] = []
        if pipeline is not None:
            stages = list(pipeline.stages.order_by("position", "id").values_list("key", "name"))
            fields = [
                {"key": item.key, "label": item.label, "kind": item.kind, "choices": item.choices}
                for item in pipeline.fields.order_by("position", "id")
            ]
        owners = [
            (user.email, user.get_full_name() or user.email)
            for user in User.objects.filter(is_active=True, groups__name__in=Role.STAFF)
            .distinct()
            .order_by("full_name", "email")
        ]
        forms = set(FormTemplate.objects.filter(is_template=True).values_list("name", flat=True))
        booking_types = set(BookingType.objects.values_list("name", flat=True))
        return cls(
            stages=stages,
            fields=fields,
            owners=owners,
            forms=sorted(forms | starter_form_names()),
            booking_types=sorted(booking_types | set(STARTER_BOOKING_TYPES)),
            email_templates=email_template_names(),
        )

    def condition_fields(self) -> list[tuple[str, Any]]:
        built_in = [(name, CONDITION_LABELS[name]) for name in CONDITION_FIELDS]
        custom = [(f"fields.{item['key']}", item["label"]) for item in self.fields]
        return [*built_in, *custom]

    def condition_values(self, field_name: str) -> Options | None:
        """The values a condition on `field_name` may compare with, or None when any text goes."""
        if field_name == "stage":
            return self.stages
        if field_name == "owner":
            return self.owners
        if field_name in KNOWN_VALUES:
            return [(value, str(label)) for value, label in KNOWN_VALUES[field_name]]
        if field_name.startswith("fields."):
            for item in self.fields:
                if f"fields.{item['key']}" == field_name and item["kind"] == "choice" and item["choices"]:
                    return [(str(choice), str(choice)) for choice in item["choices"]]
        return None


def email_template_names() -> list[str]:
    """The e-mail templates a send_email action may name: notifications/email/<name>.txt with its subject."""
    configured = [str(folder) for folder in settings.TEMPLATES[0].get("DIRS", [])]  # type: ignore[attr-defined]
    folders = [*configured, *map(str, get_app_template_dirs("templates"))]
    names: set[str] = set()
    for folder in folders:
        for subject in Path(folder, "notifications", "email").glob("*_subject.txt"):
            name = subject.name.removesuffix("_subject.txt")
            if subject.with_name(f"{name}.txt").exists():
                names.add(name)
    return sorted(names)


# Problems by input: "actions[1].subject.en" → "action-1-subject-en".


def slot_of(path: str) -> str:
    slot = re.sub(r"\.value\[\d+\]$", ".value", path)
    slot = re.sub(r"^stops\[\d+\]$", "stops", slot)
    slot = re.sub(r"^(condition|action|step)s\[(\d+)\]", r"\1-\2", slot)
    return slot.replace(".", "-")


def problems_by_slot(problems: Iterable[Problem]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path, message in problems:
        found.setdefault(slot_of(path), []).append(message)
    return found


# Posted inputs → definition.


def _text(data: Mapping[str, Any], name: str) -> str:
    return str(data.get(name, "")).strip()


def _whole_number(text: str) -> int | str:
    """A typed number as int; anything else stays as typed so the check names it and the form keeps it."""
    return int(text) if re.fullmatch(r"\d{1,6}", text) else text


def _rows(data: Any, name: str) -> list[str]:
    return [str(index) for index in data.getlist(name)]


def _long_text(data: Mapping[str, Any], name: str) -> str:
    """A textarea's text as typed (browsers send line ends as CRLF); only blank counts as empty."""
    text = str(data.get(name, "")).replace("\r\n", "\n")
    return text if text.strip() else ""


def _messages(data: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """{language: text} of the languages filled in (English kept even when blank, so it is asked for)."""
    read = _long_text if prefix.endswith("-body") else _text
    texts = {language: read(data, f"{prefix}-{language}") for language in LANGUAGES}
    return {language: text for language, text in texts.items() if text or language == "en"}


def key_for(name: str, taken: Iterable[str], *, fallback: str) -> str:
    """A key from a name (lower-case, dashes), made unique among `taken`: "Send quote" → "send-quote-2"."""
    base = slugify(name)[:50].strip("-") or fallback
    used = set(taken)
    key, number = base, 1
    while key in used:
        number += 1
        key = f"{base}-{number}"
    return key


def _basics_from_post(data: Any) -> dict[str, Any]:
    """Key, name and (only when off) `active: false`, as both editors post them."""
    definition: dict[str, Any] = {"key": _text(data, "key"), "name": _text(data, "name")}
    if not data.get("active"):
        definition["active"] = False
    return definition


def rule_from_post(data: Any) -> dict[str, Any]:
    """The rule definition the editor's inputs say (unchecked; the key may be blank for a new rule)."""
    definition = _basics_from_post(data)
    kind = _text(data, "trigger-kind")
    trigger: dict[str, Any] = {"kind": kind}
    if kind in STAGE_TRIGGERS:
        trigger["stage"] = _text(data, "trigger-stage")
    if kind == "stage.inactive":
        trigger["days"] = _whole_number(_text(data, "trigger-days"))
    definition["trigger"] = trigger
    conditions = []
    for row in _rows(data, "condition"):
        prefix = f"condition-{row}"
        condition: dict[str, Any] = {"field": _text(data, f"{prefix}-field")}
        op = _text(data, f"{prefix}-op") or "equals"
        if op != "equals":
            condition["op"] = op
        if op in LIST_OPERATORS:
            values = [str(value).strip() for value in data.getlist(f"{prefix}-value")]
            if len(values) == 1 and "," in values[0]:
                values = values[0].split(",")
            condition["value"] = [value.strip() for value in values if value.strip()]
        elif op not in UNARY_OPERATORS:
            condition["value"] = _text(data, f"{prefix}-value")
        conditions.append(condition)
    if conditions:
        definition["conditions"] = conditions
    definition["actions"] = [action_from_post(data, f"action-{row}") for row in _rows(data, "action")]
    return definition


def action_from_post(data: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    kind = _text(data, f"{prefix}-type")
    action: dict[str, Any] = {"type": kind}

    def put(key: str, *, optional: bool = False) -> None:
        value = _text(data, f"{prefix}-{key}")
        if value or not optional:
            action[key] = value

    if kind == "send_email":
        if _text(data, f"{prefix}-to") == "owner":
            action["to"] = "owner"
        if template := _text(data, f"{prefix}-template"):
            action["template"] = template
        else:
            action["subject"] = _messages(data, f"{prefix}-subject")
            action["body"] = _messages(data, f"{prefix}-body")
    elif kind == "send_request":
        put("form")
        if message := _long_text(data, f"{prefix}-message"):
            action["message"] = message
    elif kind == "send_booking_invitation":
        put("booking_type")
    elif kind == "move":
        put("stage")
    elif kind == "assign_owner":
        put("group")
    elif kind == "create_task":
        put("title")
        if due_days := _text(data, f"{prefix}-due_days"):
            action["due_days"] = _whole_number(due_days)
    elif kind == "add_tag":
        put("tag")
    elif kind == "webhook":
        put("url")
        put("secret", optional=True)
        if timeout := _text(data, f"{prefix}-timeout"):
            action["timeout"] = _whole_number(timeout)
    return action


def sequence_from_post(data: Any) -> dict[str, Any]:
    """The reminder sequence definition the editor's inputs say (unchecked; the key may be blank)."""
    definition = _basics_from_post(data)
    start = _text(data, "start")
    definition["start"] = start
    if stage := _text(data, "stage"):
        definition["stage"] = stage
    elif start == "stage.entered":
        definition["stage"] = ""
    if start == "request.sent" and (form := _text(data, "form")):
        definition["form"] = form
    stops = [str(kind) for kind in data.getlist("stops")]
    if _text(data, "stops-for") != start and sorted(stops) == sorted(
        DEFAULT_STOPS.get(data.get("stops-for"), [])
    ):
        stops = list(
            DEFAULT_STOPS.get(start, [])
        )  # the start changed: its own answers, unless some were picked
    if stops != DEFAULT_STOPS.get(start):
        definition["stops"] = stops
    send_at = _text(data, "send_at")[:5]
    if send_at != "09:00":
        definition["send_at"] = send_at
    if not data.get("escalate"):
        definition["escalate"] = False
    steps = []
    for row in _rows(data, "step"):
        prefix = f"step-{row}"
        steps.append(
            {
                "days": _whole_number(_text(data, f"{prefix}-days")),
                "subject": _messages(data, f"{prefix}-subject"),
                "body": _messages(data, f"{prefix}-body"),
            }
        )
    definition["steps"] = steps
    return definition


# Adding, removing and reordering rows ("add-action", "remove-condition-2", "up-action-1").

ROW_LISTS = {"condition": "conditions", "action": "actions", "step": "steps"}


def new_row(kind: str, definition: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "condition":
        return {"field": "stage", "value": ""}
    if kind == "action":
        return {"type": "move", "stage": ""}
    days = [step.get("days") for step in definition.get("steps", []) if isinstance(step.get("days"), int)]
    return {"days": (max(days) if days else 0) + 5, "subject": {"en": ""}, "body": {"en": ""}}


def apply_row_change(definition: dict[str, Any], change: str) -> dict[str, Any]:
    """The definition with one row added, removed or moved as `change` says; unknown changes do nothing."""
    found = re.fullmatch(r"(add|remove|up|down)-(condition|action|step)(?:-(\d+))?", change)
    if not found:
        return definition
    verb, kind, index_text = found.groups()
    rows = list(definition.get(ROW_LISTS[kind], []))
    index = int(index_text) if index_text is not None else -1
    if verb == "add":
        rows.append(new_row(kind, definition))
    elif 0 <= index < len(rows):
        if verb == "remove":
            rows.pop(index)
        elif verb == "up" and index > 0:
            rows[index - 1], rows[index] = rows[index], rows[index - 1]
        elif verb == "down" and index < len(rows) - 1:
            rows[index + 1], rows[index] = rows[index], rows[index + 1]
    definition[ROW_LISTS[kind]] = rows
    if kind == "condition" and not rows:
        definition.pop("conditions", None)
    return definition


# Definition → inputs to render.


@dataclass
class Input:
    """One input of the editor: its name is also the slot problems are filed under."""

    name: str
    label: Any
    kind: str = "text"  # text, number, url, time, textarea, select, multiselect, checkbox, checkboxes
    value: Any = ""
    options: list[tuple[str, Any]] = field(default_factory=list)
    disabled: dict[str, Any] = field(default_factory=dict)  # option value → why it cannot be chosen
    errors: list[str] = field(default_factory=list)
    help: Any = ""
    placeholder: Any = ""
    refresh: bool = False  # choosing something else changes the other inputs (re-rendered by htmx)
    required: bool = False

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def values(self) -> list[str]:
        return [str(item) for item in self.value] if isinstance(self.value, list) else [str(self.value)]

    @property
    def option_list(self) -> list[tuple[str, Any, Any]]:
        """(value, label, why it cannot be chosen or ""), with a value that is not among the options
        added as typed, so it is never lost and its problem can be shown."""
        known = {value for value, _label in self.options}
        unknown = [(value, value) for value in self.values if value and value not in known]
        return [(value, label, self.disabled.get(value, "")) for value, label in [*self.options, *unknown]]

    @property
    def size(self) -> int:
        """Rows a multiple select shows: all its options, at most six."""
        return min(max(len(self.options), 2), 6)

    @property
    def described_by(self) -> str:
        ids = [f"{self.id}_help"] if self.help else []
        return " ".join([*ids, *([f"{self.id}_error"] if self.errors else [])])


@dataclass
class Row:
    index: int
    inputs: list[Input]
    errors: list[str]
    languages: list[dict[str, Any]] = field(default_factory=list)  # per language: subject and body inputs
    label: str = ""


class _Builder:
    def __init__(self, vocabulary: Vocabulary, problems: list[Problem]) -> None:
        self.vocabulary = vocabulary
        self.problems = problems
        self.slots = problems_by_slot(problems)
        self.labels: dict[str, str] = {}  # slot → where it is, e.g. "Action 2 · Stage"
        self.place = ""

    def input(self, name: str, label: Any, **kwargs: Any) -> Input:
        self.labels[name] = f"{self.place} · {label}" if self.place else str(label)
        return Input(name=name, label=label, errors=self.slots.get(name, []), **kwargs)

    def problem_list(self) -> list[dict[str, str]]:
        """Every problem with where it is (for the summary, linking to the input it names)."""
        listed = []
        for path, message in self.problems:
            slot = slot_of(path)
            where = self.labels.get(slot) or self.labels.get(slot.rsplit("-", 1)[0], "")
            listed.append({"slot": slot, "message": message, "where": where})
        return listed

    def basics(
        self,
        definition: Mapping[str, Any],
        pipelines: Options | None,
        pipeline_id: int | None,
        *,
        active_label: Any,
    ) -> list[Input]:
        """Name, the pipeline (only when it may still be chosen) and whether it is on."""
        inputs = [self.input("name", _("Name"), value=definition.get("name", ""), required=True)]
        if pipelines is not None:
            inputs.append(
                self.input(
                    "pipeline",
                    _("Pipeline"),
                    kind="select",
                    value=str(pipeline_id or ""),
                    options=pipelines,
                    refresh=True,
                    required=True,
                )
            )
        inputs.append(
            self.input("active", active_label, kind="checkbox", value=definition.get("active", True))
        )
        return inputs

    def choose(self, options: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return [("", _("Choose…")), *options]

    def languages(self, prefix: str, subject: Any, body: Any, *, subject_label: Any) -> list[dict[str, Any]]:
        subjects = subject if isinstance(subject, dict) else {}
        bodies = body if isinstance(body, dict) else {}
        names = dict(Language.choices)
        place = self.place
        for language in LANGUAGES:
            for part in ("subject", "body"):
                self.labels[f"{prefix}-{part}-{language}"] = f"{place} · {names[language]}"
        return [
            {
                "code": language,
                "name": names[language],
                "open": language == "en"
                or bool(subjects.get(language) or bodies.get(language))
                or any(
                    slot.startswith(f"{prefix}-") and slot.endswith(f"-{language}") for slot in self.slots
                ),
                "inputs": [
                    self.input(
                        f"{prefix}-subject-{language}",
                        subject_label,
                        value=subjects.get(language, ""),
                        required=language == "en",
                    ),
                    self.input(
                        f"{prefix}-body-{language}",
                        _("Text"),
                        kind="textarea",
                        value=bodies.get(language, ""),
                        required=language == "en",
                    ),
                ],
            }
            for language in LANGUAGES
        ]

    def condition(self, index: int, condition: Mapping[str, Any]) -> Row:
        prefix = f"condition-{index}"
        self.place = _("Condition %(number)s") % {"number": index + 1}
        self.labels[prefix] = self.place
        field_name = str(condition.get("field", ""))
        op = str(condition.get("op", "equals"))
        inputs = [
            self.input(
                f"{prefix}-field",
                _("What"),
                kind="select",
                value=field_name,
                options=self.vocabulary.condition_fields(),
                refresh=True,
            ),
            self.input(
                f"{prefix}-op",
                _("Is"),
                kind="select",
                value=op,
                options=list(OPERATOR_LABELS.items()),
                refresh=True,
            ),
        ]
        if op not in UNARY_OPERATORS:
            known = self.vocabulary.condition_values(field_name)
            value = condition.get("value", "")
            if op in LIST_OPERATORS:
                values = value if isinstance(value, list) else [value] if value else []
                if known is None:
                    inputs.append(
                        self.input(
                            f"{prefix}-value",
                            _("Values"),
                            value=", ".join(str(item) for item in values),
                            help=_("Separate them with commas."),
                        )
                    )
                else:
                    inputs.append(
                        self.input(
                            f"{prefix}-value", _("Values"), kind="multiselect", value=values, options=known
                        )
                    )
            elif known is None:
                inputs.append(
                    self.input(
                        f"{prefix}-value",
                        pgettext("what a rule condition compares with", "Value"),
                        value=value,
                    )
                )
            else:
                inputs.append(
                    self.input(
                        f"{prefix}-value",
                        pgettext("what a rule condition compares with", "Value"),
                        kind="select",
                        value=value,
                        options=self.choose(known),
                    )
                )
        return Row(index=index, inputs=inputs, errors=self.slots.get(prefix, []))

    def action(self, index: int, action: Mapping[str, Any]) -> Row:
        prefix = f"action-{index}"
        self.place = _("Action %(number)s") % {"number": index + 1}
        self.labels[prefix] = self.labels[f"{prefix}-subject"] = self.labels[f"{prefix}-body"] = self.place
        kind = str(action.get("type", ""))
        inputs = [
            self.input(
                f"{prefix}-type",
                _("Do this"),
                kind="select",
                value=kind,
                options=[(name, ACTION_LABELS[name]) for name in ACTIONS],
                refresh=True,
            )
        ]
        languages: list[dict[str, Any]] = []
        vocabulary = self.vocabulary

        def add(key: str, label: Any, **kwargs: Any) -> None:
            inputs.append(self.input(f"{prefix}-{key}", label, value=action.get(key, ""), **kwargs))

        if kind == "move":
            add("stage", _("Stage"), kind="select", options=self.choose(vocabulary.stages), required=True)
        elif kind == "send_request":
            forms = [(name, name) for name in vocabulary.forms]
            add("form", _("Form from the library"), kind="select", options=self.choose(forms), required=True)
            add(
                "message",
                _("Note to the client (optional)"),
                kind="textarea",
                help=_("Shown with the link; placeholders such as {client_name} work."),
            )
        elif kind == "send_booking_invitation":
            calls = [(name, name) for name in vocabulary.booking_types]
            add("booking_type", _("Kind of call"), kind="select", options=self.choose(calls), required=True)
        elif kind == "send_email":
            inputs.append(
                self.input(
                    f"{prefix}-to",
                    _("To"),
                    kind="select",
                    value=action.get("to", "client"),
                    options=[("client", _("The client")), ("owner", _("The order's owner"))],
                )
            )
            templates = [(name, name) for name in vocabulary.email_templates]
            add(
                "template",
                _("Message"),
                kind="select",
                options=[("", _("Write the subject and text below")), *templates],
                refresh=True,
                help=_("A message template, or your own words in each language."),
            )
            if not action.get("template"):
                languages = self.languages(
                    prefix, action.get("subject"), action.get("body"), subject_label=_("Subject")
                )
        elif kind == "assign_owner":
            roles = [(role, ROLE_LABELS[role]) for role in Role.STAFF]
            add(
                "group",
                _("Role"),
                kind="select",
                options=self.choose(roles),
                required=True,
                help=_("Round-robin: the active member given an order least recently."),
            )
        elif kind == "create_task":
            add("title", _("Task"), required=True, help=_("Placeholders such as {order_number} work."))
            add("due_days", _("Due after (business days)"), kind="number", help=_("Empty: no due date."))
        elif kind == "add_tag":
            add("tag", _("Tag"), required=True)
        elif kind == "webhook":
            add("url", _("Address (URL)"), kind="url", required=True)
            add("secret", _("Secret for the signature (optional)"))
            add("timeout", _("Timeout (seconds)"), kind="number", placeholder="10")
        row = Row(index=index, inputs=inputs, errors=self.slots.get(prefix, []), languages=languages)
        row.errors += self.slots.get(f"{prefix}-subject", []) + self.slots.get(f"{prefix}-body", [])
        return row


def rule_inputs(
    definition: Mapping[str, Any],
    *,
    vocabulary: Vocabulary,
    problems: list[Problem],
    pipelines: Options | None,
    pipeline_id: int | None,
) -> dict[str, Any]:
    """What the rule editor template renders: inputs by section, rows, and every problem."""
    builder = _Builder(vocabulary, problems)
    found = definition.get("trigger")
    trigger: dict[str, Any] = found if isinstance(found, dict) else {}
    kind = str(trigger.get("kind", ""))
    basics = builder.basics(definition, pipelines, pipeline_id, active_label=_("On: the rule runs"))
    trigger_inputs = [
        builder.input(
            "trigger-kind",
            _("What happens"),
            kind="select",
            value=kind,
            options=[(name, TRIGGER_LABELS[name]) for name in TRIGGERS],
            disabled={
                name: _("not yet: waits for %(part)s") % {"part": part}
                for name, part in UNBUILT_TRIGGERS.items()
            },
            refresh=True,
            required=True,
        )
    ]
    if kind in STAGE_TRIGGERS:
        trigger_inputs.append(
            builder.input(
                "trigger-stage",
                _("Stage"),
                kind="select",
                value=trigger.get("stage", ""),
                options=builder.choose(vocabulary.stages),
                required=True,
            )
        )
    if kind == "stage.inactive":
        trigger_inputs.append(
            builder.input(
                "trigger-days",
                _("Business days without activity"),
                kind="number",
                value=trigger.get("days", ""),
                required=True,
            )
        )
    key = builder.input(
        "key",
        _("Key"),
        value=definition.get("key", ""),
        help=_("Names the rule in process templates. Empty: made from the name."),
    )
    builder.labels.update(trigger=str(_("When")), conditions=str(_("Only if")), actions=str(_("Then")))
    conditions = definition.get("conditions") or []
    actions = definition.get("actions") or []
    return {
        "basics": basics,
        "key": key,
        "trigger": trigger_inputs,
        "trigger_errors": builder.slots.get("trigger", []),
        "conditions": [
            builder.condition(index, item) for index, item in enumerate(conditions) if isinstance(item, dict)
        ],
        "condition_errors": builder.slots.get("conditions", []),
        "actions": [
            builder.action(index, item) for index, item in enumerate(actions) if isinstance(item, dict)
        ],
        "action_errors": builder.slots.get("actions", []),
        "problems": builder.problem_list(),
    }


def sequence_inputs(
    definition: Mapping[str, Any],
    *,
    vocabulary: Vocabulary,
    problems: list[Problem],
    pipelines: Options | None,
    pipeline_id: int | None,
) -> dict[str, Any]:
    """What the reminder sequence editor template renders."""
    builder = _Builder(vocabulary, problems)
    start = str(definition.get("start", ""))
    basics = builder.basics(definition, pipelines, pipeline_id, active_label=_("On: new reminders start"))
    stage_help = (
        _("The stage that starts the reminders; they stop when the order leaves it.")
        if start == "stage.entered"
        else _("Optional: start only while the order is in this stage, and stop when it leaves.")
    )
    starts = [
        builder.input(
            "start",
            _("Starts when"),
            kind="select",
            value=start,
            options=[(name, START_LABELS[name]) for name in REMINDER_STARTS],
            refresh=True,
            required=True,
        ),
        builder.input(
            "stage",
            _("Stage"),
            kind="select",
            value=definition.get("stage", ""),
            options=[("", _("Any stage") if start != "stage.entered" else _("Choose…")), *vocabulary.stages],
            help=stage_help,
            required=start == "stage.entered",
        ),
    ]
    if start == "request.sent":
        form = str(definition.get("form", ""))
        forms = [(name, name) for name in vocabulary.forms]
        if form and form not in vocabulary.forms:
            forms.append((form, form))  # kept as saved, so the check can name it
        starts.append(
            builder.input(
                "form",
                _("Only requests from"),
                kind="select",
                value=form,
                options=[("", _("Any form")), *forms],
                help=_("Optional: start only when a request from this library form is sent."),
            )
        )
    stops = definition.get("stops", DEFAULT_STOPS.get(start, []))
    answer_kinds = [kind for kind in ANSWER_KINDS if kind not in UNBUILT_TRIGGERS]
    timing = [
        builder.input(
            "send_at",
            _("Send at (organisation's time)"),
            kind="time",
            value=definition.get("send_at", "09:00"),
            required=True,
        ),
        builder.input(
            "escalate",
            _("Give the owner a task after the last reminder"),
            kind="checkbox",
            value=definition.get("escalate", True),
        ),
        builder.input(
            "stops",
            _("Stop the reminders when"),
            kind="checkboxes",
            value=list(stops) if isinstance(stops, list) else [],
            options=[(kind, ANSWER_LABELS[kind]) for kind in answer_kinds],
            help=_("The answer must concern the same request or kind of call that started them."),
        ),
    ]
    key = builder.input(
        "key",
        _("Key"),
        value=definition.get("key", ""),
        help=_("Names the sequence in process templates. Empty: made from the name."),
    )
    builder.labels["steps"] = str(_("Reminders"))
    steps = []
    for index, step in enumerate(definition.get("steps") or []):
        if not isinstance(step, dict):
            continue
        prefix = f"step-{index}"
        builder.place = _("Reminder %(number)s") % {"number": index + 1}
        builder.labels[prefix] = builder.labels[f"{prefix}-subject"] = builder.labels[f"{prefix}-body"] = (
            builder.place
        )
        row = Row(
            index=index,
            inputs=[
                builder.input(
                    f"{prefix}-days",
                    _("Business days after the start"),
                    kind="number",
                    value=step.get("days", ""),
                    required=True,
                )
            ],
            errors=builder.slots.get(prefix, [])
            + builder.slots.get(f"{prefix}-subject", [])
            + builder.slots.get(f"{prefix}-body", []),
            languages=builder.languages(
                prefix, step.get("subject"), step.get("body"), subject_label=_("Subject")
            ),
        )
        steps.append(row)
    return {
        "basics": basics,
        "key": key,
        "starts": starts,
        "timing": timing,
        "stops_for": start,
        "steps": steps,
        "step_errors": builder.slots.get("steps", []),
        "problems": builder.problem_list(),
    }


def new_rule() -> dict[str, Any]:
    return {"key": "", "name": "", "trigger": {"kind": "order.created"}, "actions": [new_row("action", {})]}


def new_sequence() -> dict[str, Any]:
    return {
        "key": "",
        "name": "",
        "start": "request.sent",
        "steps": [{"days": days, "subject": {"en": ""}, "body": {"en": ""}} for days in (5, 10)],
    }
