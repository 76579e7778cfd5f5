"""Process templates: a pipeline with its custom fields and stages as a YAML document, both ways.

A template (format version 1) has these sections, and each entry its keys, in this order:

    version: 1
    pipeline: name, slug, number_prefix, description, currency
    fields:   key, label, kind, required, choices, help_text               (a list, may be left out)
    stages:   key, name, client_label, client_label_translations, client_description,
              client_description_translations, category, color, side, notify_client, allowed_roles,
              allowed_from, required_fields, max_days
    rules:    key, name, active, trigger, conditions, actions                (a list, may be left out)
    reminders: key, name, active, start, stage, form, stops, send_at, escalate, steps  (likewise)

Rules and reminder sequences are checked by orderflow.automation.definitions (what each key may
say); a rule or sequence naming a stage or field the template does not have is refused. A rule may
name one of the starter forms or kinds of call Orderflow ships (automation.provisions): importing
the template adds it when it is missing, so the imported process runs as it is.

A key whose value is the model's default is left out of an export and may be left out of a file.

`export_process_template` writes exactly one text for a pipeline (the canonical form): fixed key
order, block style, UTF-8 without escapes, lines folded at LINE_WIDTH. The shipped files are kept in
that form, so export → import → export gives the same bytes, and so does import → export of a file.

`import_process_template` reads the whole document before writing anything and refuses it as a
whole: each problem names its line and the path of the value ("line 14, stages[2].category: …"),
in the active language. Where a slug or number prefix is taken, the problem says how to give
another one in the words of the place it is shown (RenameHints: a command-line option, a form field).
Sections that later versions add (forms, messages) are refused until this code reads them, so
a template is never imported with part of it silently dropped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orderflow.automation.definitions import PipelineShape, check_rule, check_sequence
from orderflow.errors import DomainError
from orderflow.pipelines.configure import TRANSLATED_LANGUAGES, check_stage_role
from orderflow.pipelines.models import FieldDefinition, Pipeline, Stage

FORMAT_VERSION = 1
SHIPPED_DIR = Path(__file__).resolve().parent / "process_templates"
DEMO_TEMPLATE = SHIPPED_DIR / "web-design.yaml"
LINE_WIDTH = 100
HEADER = "# Orderflow process template. Load it with: orderflow process_template import <this file>\n"

SECTIONS = ("version", "pipeline", "fields", "stages", "rules", "reminders")
LATER_SECTIONS = ("forms", "messages")
# Key order of rule and reminder entries, and of the mappings inside them (other keys follow, sorted).
RULE_KEYS = ("key", "name", "active", "trigger", "conditions", "actions")
REMINDER_KEYS = ("key", "name", "active", "start", "stage", "form", "stops", "send_at", "escalate", "steps")
NESTED_FIRST = ("type", "kind", "field", "op", "value", "days", "stage", "subject", "body", "en")
PIPELINE_KEYS = ("name", "slug", "number_prefix", "description", "currency")
FIELD_KEYS = ("key", "label", "kind", "required", "choices", "help_text")
STAGE_KEYS = (
    "key",
    "name",
    "client_label",
    "client_label_translations",
    "client_description",
    "client_description_translations",
    "category",
    "color",
    "side",
    "notify_client",
    "allowed_roles",
    "allowed_from",
    "required_fields",
    "max_days",
)
# Template key → model attribute, where the two differ.
FIELD_ATTRIBUTES = {"required": "is_required"}
STAGE_ATTRIBUTES = {"side": "is_side"}

COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
PREFIX_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
# The longest client label and description, as in Settings (pipelines.configure).
LABEL_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 300


class ProcessTemplateError(DomainError):
    """A process template that cannot be imported; `errors` holds one line per problem. Nothing was written."""

    code = "process_template_invalid"

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        summary = ngettext(
            "The process template has %(count)d problem; nothing was imported.",
            "The process template has %(count)d problems; nothing was imported.",
            count,
        ) % {"count": count}
        super().__init__("\n".join([summary, *self.errors]))


@dataclass(frozen=True)
class RenameHints:
    """How the person importing gives the pipeline another slug or number prefix, in the words of the
    place the refusal is shown: the command line names its options, the web page its form fields.
    Each is a clause that ends the sentence "'website' is already the slug of the pipeline “…”; …"."""

    slug: str
    number_prefix: str


def plain_rename_hints() -> RenameHints:
    """The hints when the caller names no place (the API, the demo, tests)."""
    return RenameHints(
        slug=_("import it under another slug"), number_prefix=_("import it under another number prefix")
    )


def command_line_rename_hints() -> RenameHints:
    """The hints `orderflow process_template import` gives: its options."""
    return RenameHints(
        slug=_("import it under another slug (--slug)"),
        number_prefix=_("import it under another number prefix (--prefix)"),
    )


@dataclass(frozen=True)
class ProcessPlan:
    """A checked template as unsaved rows, in template order; positions are assigned on import."""

    pipeline: Pipeline
    fields: list[FieldDefinition]
    stages: list[Stage]
    rules: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ShippedTemplate:
    """One of the templates that ship with Orderflow, as `orderflow process_template list` shows it."""

    path: Path
    name: str
    slug: str
    number_prefix: str
    stage_count: int
    field_count: int


# --- export -------------------------------------------------------------------------------------


class _TemplateDumper(yaml.SafeDumper):
    """Block style with lists indented under their key, text with line breaks as literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: _TemplateDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_TemplateDumper.add_representer(str, _represent_text)


def _plain(value: Any) -> Any:
    """`value` as built-in types the safe dumper writes (choices enums become str; mappings sorted)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _plain(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _ordered(value: Any, first: Sequence[str] = NESTED_FIRST) -> Any:
    """Mappings with the `first` keys in that order, then the rest sorted, all the way down."""
    if isinstance(value, dict):
        keys = [key for key in first if key in value] + sorted(key for key in value if key not in first)
        return {str(key): _ordered(value[key]) for key in keys}
    if isinstance(value, list | tuple):
        return [_ordered(item) for item in value]
    return _plain(value)


def _default(model: type[models.Model], attribute: str) -> Any:
    """The value a new row of `model` gets for `attribute`; a template may leave such a value out."""
    field = model._meta.get_field(attribute)
    assert isinstance(field, models.Field), attribute
    return field.get_default()


def _entry(instance: models.Model, keys: Sequence[str], attributes: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key in keys:
        attribute = attributes.get(key, key)
        value = getattr(instance, attribute)
        if value == _default(type(instance), attribute):
            continue
        entry[key] = _plain(value)
    return entry


def export_process_template(pipeline: Pipeline) -> str:
    """The pipeline, its custom fields and its stages as a template in canonical form (see the module doc)."""
    document: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "pipeline": _entry(pipeline, PIPELINE_KEYS, {}),
    }
    fields = [
        _entry(definition, FIELD_KEYS, FIELD_ATTRIBUTES)
        for definition in pipeline.fields.order_by("position", "id")
    ]
    if fields:
        document["fields"] = fields
    document["stages"] = [
        _entry(stage, STAGE_KEYS, STAGE_ATTRIBUTES) for stage in pipeline.stages.order_by("position", "id")
    ]
    from orderflow.automation.models import ReminderSequence, Rule
    from orderflow.automation.services import rule_definition, sequence_definition

    rules = [
        rule_definition(rule) for rule in Rule.objects.filter(pipeline=pipeline).order_by("position", "id")
    ]
    if rules:
        document["rules"] = [_ordered(rule, RULE_KEYS) for rule in rules]
    sequences = ReminderSequence.objects.filter(pipeline=pipeline).order_by("id")
    if sequences:
        document["reminders"] = [
            _ordered(sequence_definition(sequence), REMINDER_KEYS) for sequence in sequences
        ]
    body = yaml.dump(
        document,
        Dumper=_TemplateDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=LINE_WIDTH,
        indent=2,
    )
    return HEADER + body


# --- reading and checking -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """A node of the document with its path ("stages[2].category") and the line people should look at."""

    node: yaml.Node
    path: str
    line: int


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _choices_text(options: Sequence[str]) -> str:
    return ", ".join(options)


def _cannot_read(error: yaml.YAMLError) -> str:
    """A value the safe loader refuses (an unsafe tag); PyYAML's own words stay in English."""
    return _("cannot read this value: %(problem)s") % {"problem": getattr(error, "problem", None) or error}


def _unknown_key_message(key: str, known: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return _("unknown key %(key)r in %(what)s; did you mean %(close)r?") % {
            "key": key,
            "what": what,
            "close": close[0],
        }
    return _("unknown key %(key)r in %(what)s; it may have %(known)s") % {
        "key": key,
        "what": what,
        "known": _choices_text(known),
    }


def _unknown_section_message(key: str) -> str:
    readable = ", ".join(SECTIONS)
    if key in LATER_SECTIONS:
        return _("the section %(key)r is not supported yet; this version of Orderflow reads %(sections)s") % {
            "key": key,
            "sections": readable,
        }
    close = difflib.get_close_matches(key, SECTIONS, n=1)
    if close:
        return _("unknown section %(key)r; did you mean %(close)r?") % {"key": key, "close": close[0]}
    return _("unknown section %(key)r; a template has %(sections)s") % {"key": key, "sections": readable}


class _TemplateReader:
    """Walks the composed YAML nodes into unsaved rows, collecting every problem instead of stopping."""

    def __init__(self, loader: yaml.SafeLoader, rename_hints: RenameHints) -> None:
        self.loader = loader
        self.rename_hints = rename_hints
        self.problems: list[tuple[int, str, str]] = []
        # The line of every path read so far, and the path of each text in a list by (list path, text).
        self.lines: dict[str, int] = {}
        self.item_paths: dict[tuple[str, str], str] = {}

    # problems

    def problem(self, value: _Value, message: str) -> None:
        self.problems.append((value.line, value.path, message))

    def problem_at(self, line: int, path: str, message: str) -> None:
        self.problems.append((line, path, message))

    def has_problem_under(self, path: str) -> bool:
        return any(
            found == path or found.startswith((f"{path}.", f"{path}["))
            for _line, found, _message in self.problems
        )

    def messages(self) -> list[str]:
        ordered = sorted(dict.fromkeys(self.problems), key=lambda problem: (problem[0], problem[1]))
        return [
            _("line %(line)d, %(path)s: %(message)s") % {"line": line, "path": path, "message": message}
            if path
            else _("line %(line)d: %(message)s") % {"line": line, "message": message}
            for line, path, message in ordered
        ]

    # scalars and shapes

    def construct(self, node: yaml.ScalarNode) -> Any:
        """The Python value of a scalar node; yaml.YAMLError for tags the safe loader refuses."""
        return self.loader.construct_object(node, deep=True)

    def scalar(self, value: _Value) -> tuple[bool, Any]:
        """(True, the Python value) of a scalar node; (False, None) after recording why it is not one."""
        if not isinstance(value.node, yaml.ScalarNode):
            self.problem(
                value, _("expected a single value, got %(got)s") % {"got": self.describe(value.node)}
            )
            return False, None
        try:
            return True, self.construct(value.node)
        except yaml.YAMLError as error:
            self.problem(value, _cannot_read(error))
            return False, None

    def describe(self, node: yaml.Node) -> str:
        """How a value reads to people, for "expected …, got …"."""
        if not isinstance(node, yaml.ScalarNode):
            return _("a mapping") if isinstance(node, yaml.MappingNode) else _("a list")
        try:
            content = self.construct(node)
        except yaml.YAMLError:
            return repr(node.value)
        if content is None:
            return _("nothing")
        if isinstance(content, bool):
            return _("%(value)s (read as a yes/no value; quote it if it is text)") % {"value": node.value}
        if isinstance(content, int | float):
            return _("the number %(value)s (quote it if it is text)") % {"value": node.value}
        if not isinstance(content, str):
            return _("%(value)r (read as %(type)s; quote it if it is text)") % {
                "value": node.value,
                "type": type(content).__name__,
            }
        return repr(content)

    def pairs(self, value: _Value, *, what: str) -> list[tuple[str, _Value]] | None:
        """The key/value pairs of a mapping node; keys must be text and appear once."""
        if not isinstance(value.node, yaml.MappingNode):
            self.problem(
                value, _("expected %(what)s, got %(got)s") % {"what": what, "got": self.describe(value.node)}
            )
            return None
        found: list[tuple[str, _Value]] = []
        seen: dict[str, int] = {}
        for key_node, value_node in value.node.value:
            line = key_node.start_mark.line + 1
            key_value = _Value(key_node, value.path, line)
            try:
                content = self.construct(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            except yaml.YAMLError:
                content = None
            if not isinstance(content, str):
                self.problem(
                    key_value, _("a key must be text, got %(got)s") % {"got": self.describe(key_node)}
                )
                continue
            path = _join(value.path, content)
            if content in seen:
                self.problem_at(
                    line, path, _("given twice (first on line %(line)d)") % {"line": seen[content]}
                )
                continue
            seen[content] = line
            self.lines[path] = line
            found.append((content, _Value(value_node, path, line)))
        return found

    def mapping(
        self,
        value: _Value,
        *,
        what: str,
        keys: Sequence[str],
        required: Sequence[str],
        unknown: Callable[[str], str] | None = None,
    ) -> dict[str, _Value] | None:
        """The known entries of a mapping; unknown keys and missing required keys are problems."""
        pairs = self.pairs(value, what=what)
        if pairs is None:
            return None
        entries: dict[str, _Value] = {}
        for key, entry in pairs:
            if key not in keys:
                message = unknown(key) if unknown else _unknown_key_message(key, keys, what)
                self.problem(entry, message)
                continue
            entries[key] = entry
        for key in required:
            if key not in entries:
                self.problem_at(value.line, _join(value.path, key), _("missing"))
        return entries

    def sequence(self, value: _Value, *, what: str) -> list[_Value]:
        """The items of a list node; nothing (null) is an empty list."""
        if isinstance(value.node, yaml.ScalarNode) and value.node.tag == "tag:yaml.org,2002:null":
            return []
        if not isinstance(value.node, yaml.SequenceNode):
            self.problem(
                value,
                _("expected a list of %(what)s, got %(got)s")
                % {"what": what, "got": self.describe(value.node)},
            )
            return []
        items = []
        for index, node in enumerate(value.node.value):
            item = _Value(node, f"{value.path}[{index}]", node.start_mark.line + 1)
            self.lines[item.path] = item.line
            items.append(item)
        return items

    # typed values; an optional key given as nothing (null) takes its default

    def text(self, value: _Value, default: Any = "") -> str:
        ok, content = self.scalar(value)
        if not ok:
            return ""
        if content is None:
            return str(default)
        if not isinstance(content, str):
            self.problem(value, _("expected text, got %(got)s") % {"got": self.describe(value.node)})
            return ""
        return content

    def required_text(self, value: _Value, default: Any = "") -> str:
        content = self.text(value)
        if not content.strip() and not self.has_problem_under(value.path):
            self.problem(value, _("must not be empty"))
        return content

    def flag(self, value: _Value, default: Any) -> bool:
        ok, content = self.scalar(value)
        if ok and content is None:
            return bool(default)
        if ok and not isinstance(content, bool):
            self.problem(value, _("expected true or false, got %(got)s") % {"got": self.describe(value.node)})
        return content if isinstance(content, bool) else bool(default)

    def one_of(self, value: _Value, default: Any, options: Sequence[str]) -> str:
        content = self.text(value, default)
        if content not in options and not self.has_problem_under(value.path):
            self.problem(
                value,
                _("%(value)r is not one of %(options)s")
                % {"value": content, "options": _choices_text(options)},
            )
        return content

    def color(self, value: _Value, default: Any) -> str:
        content = self.text(value, default)
        if not COLOR_PATTERN.match(content) and not self.has_problem_under(value.path):
            self.problem(
                value, _("%(value)r is not a colour written as #rrggbb, e.g. '#3b82f6'") % {"value": content}
            )
        return content

    def days(self, value: _Value, default: Any) -> int | None:
        ok, content = self.scalar(value)
        if not ok or content is None:
            return None
        if isinstance(content, bool) or not isinstance(content, int):
            self.problem(
                value, _("expected a whole number of days, got %(got)s") % {"got": self.describe(value.node)}
            )
            return None
        if content < 1:
            self.problem(value, _("must be at least 1 day, got %(days)d") % {"days": content})
            return None
        return content

    def text_list(self, value: _Value, *, what: str) -> list[str]:
        """A list of non-empty, distinct texts."""
        found: dict[str, _Value] = {}
        for item in self.sequence(value, what=what):
            content = self.required_text(item)
            if not content:
                continue
            if content in found:
                self.problem(
                    item,
                    _("%(value)r is listed twice (first on line %(line)d)")
                    % {"value": content, "line": found[content].line},
                )
                continue
            found[content] = item
            self.item_paths[(value.path, content)] = item.path
        return list(found)

    def roles(self, value: _Value, default: Any) -> list[str]:
        roles = self.text_list(value, what=_("roles"))
        for role in roles:
            if problem := check_stage_role(role):
                self.problem_about_item(value.path, role, problem)
        return roles

    def problem_about_item(self, list_path: str, content: str, message: str) -> None:
        """A problem with the item `content` of the list at `list_path`, pointing at that item's line."""
        path = self.item_paths.get((list_path, content), list_path)
        self.problem_at(self.lines.get(path, self.lines.get(list_path, 1)), path, message)

    def translations(self, value: _Value, *, what: str, limit: int) -> dict[str, str]:
        """Texts by language (pt, ru: the languages besides English that Orderflow speaks)."""
        if isinstance(value.node, yaml.ScalarNode) and value.node.tag == "tag:yaml.org,2002:null":
            return {}
        pairs = self.pairs(value, what=what)
        translations: dict[str, str] = {}
        for language, entry in pairs or []:
            if language not in TRANSLATED_LANGUAGES:
                self.problem(
                    entry,
                    _("%(language)r is not a language Orderflow speaks besides English; use %(languages)s")
                    % {"language": language, "languages": _choices_text(TRANSLATED_LANGUAGES)},
                )
            text = self.required_text(entry)
            if len(text) > limit:
                self.problem(
                    entry,
                    _("at most %(limit)d characters, got %(count)d") % {"limit": limit, "count": len(text)},
                )
            if text:
                translations[language] = text
        return translations

    # the document

    def read(
        self, root: yaml.Node, *, slug: str | None, number_prefix: str | None, name: str | None
    ) -> ProcessPlan:
        document = _Value(root, "", root.start_mark.line + 1)
        sections = self.mapping(
            document,
            what=_("a process template (version, pipeline, fields, stages)"),
            keys=SECTIONS,
            required=("version", "pipeline", "stages"),
            unknown=_unknown_section_message,
        )
        if sections is None:
            return ProcessPlan(Pipeline(), [], [])
        if "version" in sections:
            self.check_version(sections["version"])
        pipeline = Pipeline()
        if "pipeline" in sections:
            pipeline = self.read_pipeline(
                sections["pipeline"], slug=slug, number_prefix=number_prefix, name=name
            )
        fields: list[tuple[FieldDefinition, _Value]] = []
        if "fields" in sections:
            items = self.sequence(sections["fields"], what=_("fields"))
            fields = [(definition, item) for item in items if (definition := self.read_field(item))]
        stages: list[tuple[Stage, _Value]] = []
        if "stages" in sections:
            items = self.sequence(sections["stages"], what=_("stages"))
            stages = [(stage, item) for item in items if (stage := self.read_stage(item))]
            if not items and not self.has_problem_under("stages"):
                self.problem(sections["stages"], _("a pipeline needs at least one stage"))
        self.check_keys_unique(fields, _("field key %(key)r is used twice (first on line %(line)d)"))
        self.check_keys_unique(stages, _("stage key %(key)r is used twice (first on line %(line)d)"))
        self.check_references(stages, fields)
        self.check_main_path(stages)
        shape = PipelineShape(
            name=pipeline.name,
            stage_keys=[stage.key for stage, _item in stages if stage.key],
            field_keys=[definition.key for definition, _item in fields if definition.key],
        )
        rules = self.read_automation(
            sections.get("rules"),
            "rules",
            shape,
            check_rule,
            _("rule key %(key)r is used twice (first on line %(line)d)"),
        )
        reminders = self.read_automation(
            sections.get("reminders"),
            "reminders",
            shape,
            check_sequence,
            _("reminder sequence key %(key)r is used twice (first on line %(line)d)"),
        )
        return ProcessPlan(
            pipeline,
            [definition for definition, _ in fields],
            [stage for stage, _ in stages],
            rules=rules,
            reminders=reminders,
        )

    def read_automation(
        self,
        value: _Value | None,
        section: str,
        shape: PipelineShape,
        check: Callable[..., tuple[dict[str, Any], list[tuple[str, str]]]],
        used_twice: str,
    ) -> list[dict[str, Any]]:
        """Rules or reminder sequences, checked against this template's stages and fields.

        `used_twice` is the message for a key given twice, with %(key)r and %(line)d.
        """
        if value is None:
            return []
        cleaned_entries: list[dict[str, Any]] = []
        first_line: dict[str, int] = {}
        for item in self.sequence(value, what=section):
            lines: dict[str, int] = {}
            _record_lines(item.node, item.path, lines)
            try:
                content = self.construct_deep(item.node)
            except yaml.YAMLError as error:
                self.problem(item, _cannot_read(error))
                continue
            cleaned, problems = check(content, pipeline=shape)
            for path, message in problems:
                full = f"{item.path}.{path}" if path else item.path
                self.problem_at(_nearest_line(lines, full, item.line), full, message)
            key = cleaned.get("key")
            if isinstance(key, str) and key:
                if key in first_line:
                    path = f"{item.path}.key"
                    message = used_twice % {"key": key, "line": first_line[key]}
                    self.problem_at(lines.get(path, item.line), path, message)
                else:
                    first_line[key] = lines.get(f"{item.path}.key", item.line)
            cleaned_entries.append(cleaned)
        return cleaned_entries

    def construct_deep(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def check_version(self, value: _Value) -> None:
        ok, content = self.scalar(value)
        if ok and (content != FORMAT_VERSION or isinstance(content, bool)):
            self.problem(
                value,
                _("this Orderflow reads templates of version %(version)d, not %(given)r")
                % {"version": FORMAT_VERSION, "given": content},
            )

    def read_pipeline(
        self, value: _Value, *, slug: str | None, number_prefix: str | None, name: str | None
    ) -> Pipeline:
        overrides = {
            key: given
            for key, given in (("slug", slug), ("number_prefix", number_prefix), ("name", name))
            if given is not None
        }
        required = [key for key in ("name", "slug", "number_prefix") if key not in overrides]
        entries = self.mapping(
            value, what=_("the pipeline (name, slug, number_prefix …)"), keys=PIPELINE_KEYS, required=required
        )
        pipeline = Pipeline()
        if entries is None:
            return pipeline
        for key, entry in entries.items():
            if key in overrides:
                continue
            reader = self.required_text if key in ("name", "slug", "number_prefix") else self.text
            setattr(pipeline, key, reader(entry, _default(Pipeline, key)))
        for key, given in overrides.items():
            setattr(pipeline, key, given)
            self.lines.setdefault(f"{value.path}.{key}", entries[key].line if key in entries else value.line)
        prefix_path = f"{value.path}.number_prefix"
        if pipeline.number_prefix and not PREFIX_PATTERN.match(pipeline.number_prefix):
            self.problem_at(
                self.lines.get(prefix_path, value.line),
                prefix_path,
                _("%(prefix)r is not 2 to 8 capital letters or digits starting with a letter, e.g. WEB")
                % {"prefix": pipeline.number_prefix},
            )
        self.validate_model(pipeline, value, {}, exclude=[])
        self.check_taken(pipeline, value, overrides)
        return pipeline

    def check_taken(self, pipeline: Pipeline, value: _Value, overrides: dict[str, str]) -> None:
        """Slug and number prefix are unique across the installation; say which pipeline has them, and
        how to give another one where the refusal is shown (self.rename_hints)."""
        messages = {
            ("slug", False): _("%(value)r is already the slug of the pipeline “%(pipeline)s”; %(hint)s"),
            ("slug", True): _(
                "%(value)r (given for this import) is already the slug of the pipeline “%(pipeline)s”; %(hint)s"
            ),
            ("number_prefix", False): _(
                "%(value)r is already the number prefix of the pipeline “%(pipeline)s”; %(hint)s"
            ),
            ("number_prefix", True): _(
                "%(value)r (given for this import) is already the number prefix of the pipeline "
                "“%(pipeline)s”; %(hint)s"
            ),
        }
        hints = {"slug": self.rename_hints.slug, "number_prefix": self.rename_hints.number_prefix}
        for key in ("slug", "number_prefix"):
            path = f"{value.path}.{key}"
            given = getattr(pipeline, key)
            if not given or self.has_problem_under(path):
                continue
            other = Pipeline.objects.filter(**{key: given}).first()
            if other is None:
                continue
            self.problem_at(
                self.lines.get(path, value.line),
                path,
                messages[key, key in overrides]
                % {"value": given, "pipeline": other.name, "hint": hints[key]},
            )

    def read_field(self, item: _Value) -> FieldDefinition | None:
        entries = self.mapping(item, what=_("a field"), keys=FIELD_KEYS, required=("key", "label"))
        if entries is None:
            return None
        definition = FieldDefinition()
        readers: dict[str, Callable[[_Value, Any], Any]] = {
            "key": self.required_text,
            "label": self.required_text,
            "kind": lambda v, d: self.one_of(v, d, FieldDefinition.Kind.values),
            "required": self.flag,
            "choices": lambda v, d: self.text_list(v, what=_("choices")),
            "help_text": self.text,
        }
        for key, entry in entries.items():
            attribute = FIELD_ATTRIBUTES.get(key, key)
            setattr(definition, attribute, readers[key](entry, _default(FieldDefinition, attribute)))
        kind = definition.kind
        if kind == FieldDefinition.Kind.CHOICE and not definition.choices:
            if not self.has_problem_under(f"{item.path}.choices"):
                line = entries["choices"].line if "choices" in entries else item.line
                self.problem_at(line, f"{item.path}.choices", _("a choice field needs at least one choice"))
        elif definition.choices and kind != FieldDefinition.Kind.CHOICE:
            self.problem(
                entries["choices"],
                _("only choice fields have choices, and this one is %(kind)r") % {"kind": kind},
            )
        self.validate_model(definition, item, FIELD_ATTRIBUTES, exclude=["pipeline"])
        return definition

    def read_stage(self, item: _Value) -> Stage | None:
        entries = self.mapping(item, what=_("a stage"), keys=STAGE_KEYS, required=("key", "name"))
        if entries is None:
            return None
        stage = Stage()
        readers: dict[str, Callable[[_Value, Any], Any]] = {
            "key": self.required_text,
            "name": self.required_text,
            "client_label": self.text,
            "client_label_translations": lambda v, d: self.translations(
                v,
                what=_("a mapping of language code to label, e.g. pt: Pedido recebido"),
                limit=LABEL_MAX_LENGTH,
            ),
            "client_description": self.text,
            "client_description_translations": lambda v, d: self.translations(
                v,
                what=_("a mapping of language code to description, e.g. pt: Estamos a tratar do seu pedido"),
                limit=DESCRIPTION_MAX_LENGTH,
            ),
            "category": lambda v, d: self.one_of(v, d, Stage.Category.values),
            "color": self.color,
            "side": self.flag,
            "notify_client": self.flag,
            "allowed_roles": self.roles,
            "allowed_from": lambda v, d: self.text_list(v, what=_("stage keys")),
            "required_fields": lambda v, d: self.text_list(v, what=_("field keys")),
            "max_days": self.days,
        }
        for key, entry in entries.items():
            attribute = STAGE_ATTRIBUTES.get(key, key)
            setattr(stage, attribute, readers[key](entry, _default(Stage, attribute)))
        self.validate_model(stage, item, STAGE_ATTRIBUTES, exclude=["pipeline"])
        return stage

    def validate_model(
        self, instance: models.Model, item: _Value, attributes: dict[str, str], *, exclude: list[str]
    ) -> None:
        """Run the model's own validators; report what the checks above did not already report."""
        keys = {attribute: key for key, attribute in attributes.items()}
        try:
            instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            for attribute, messages in error.message_dict.items():
                path = (
                    item.path
                    if attribute == NON_FIELD_ERRORS
                    else _join(item.path, keys.get(attribute, attribute))
                )
                if self.has_problem_under(path):
                    continue
                for message in messages:
                    self.problem_at(self.lines.get(path, item.line), path, str(message))

    def check_keys_unique(
        self, rows: Sequence[tuple[FieldDefinition | Stage, _Value]], used_twice: str
    ) -> None:
        """`used_twice` is the message for a key given twice, with %(key)r and %(line)d."""
        first_line: dict[str, int] = {}
        for row, item in rows:
            if not row.key:
                continue
            path = f"{item.path}.key"
            line = self.lines.get(path, item.line)
            if row.key in first_line:
                self.problem_at(line, path, used_twice % {"key": row.key, "line": first_line[row.key]})
            else:
                first_line[row.key] = line

    def check_references(
        self, stages: Sequence[tuple[Stage, _Value]], fields: Sequence[tuple[FieldDefinition, _Value]]
    ) -> None:
        """allowed_from names stages of this template, required_fields names its fields."""
        stage_keys = [stage.key for stage, _item in stages if stage.key]
        field_keys = [definition.key for definition, _item in fields if definition.key]
        for stage, item in stages:
            for key in stage.allowed_from or []:
                if key == stage.key:
                    message = _("a stage cannot be entered from itself (%(key)r)") % {"key": key}
                elif key not in stage_keys:
                    message = _("%(key)r is not a stage of this template; its stages are %(stages)s") % {
                        "key": key,
                        "stages": _choices_text(stage_keys),
                    }
                else:
                    continue
                self.problem_about_item(f"{item.path}.allowed_from", key, message)
            for key in stage.required_fields or []:
                if key not in field_keys:
                    if field_keys:
                        message = _("%(key)r is not a field of this template; its fields are %(fields)s") % {
                            "key": key,
                            "fields": _choices_text(field_keys),
                        }
                    else:
                        message = _("%(key)r is not a field of this template; it has no fields") % {
                            "key": key
                        }
                    self.problem_about_item(f"{item.path}.required_fields", key, message)

    def check_main_path(self, stages: Sequence[tuple[Stage, _Value]]) -> None:
        """New orders start in the first main (non-side) stage, so there must be one and it must be open."""
        main = [(stage, item) for stage, item in stages if not stage.is_side]
        if stages and not main:
            _stage, item = stages[0]
            self.problem_at(
                item.line,
                "stages",
                _("every stage is a side status; new orders need a main stage (side: false)"),
            )
        elif main and main[0][0].category != Stage.Category.OPEN:
            stage, item = main[0]
            path = f"{item.path}.category"
            if not self.has_problem_under(path):
                self.problem_at(
                    self.lines.get(path, item.line),
                    path,
                    _("new orders start in the first main stage, so it must be open, not %(category)r")
                    % {"category": stage.category},
                )


def _record_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    """The line of every value under `node`, by path ("rules[0].actions[1].stage")."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = _join(path, str(key_node.value))
                _record_lines(value_node, child, lines)
                lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, child_node in enumerate(node.value):
            _record_lines(child_node, f"{path}[{index}]", lines)


def _nearest_line(lines: dict[str, int], path: str, default: int) -> int:
    """The line of `path`, or of the closest enclosing value that has one (a missing key: its mapping)."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return lines.get(path, default)


def check_process_template(
    text: str,
    *,
    slug: str | None = None,
    number_prefix: str | None = None,
    name: str | None = None,
    rename_hints: RenameHints | None = None,
) -> ProcessPlan:
    """Read and check a whole template without writing; ProcessTemplateError lists every problem.

    `slug`, `number_prefix` and `name` replace the file's values, e.g. to import a template a second
    time next to the first. The database is read to refuse a slug or prefix already taken; such a
    refusal ends with `rename_hints` (default: plain_rename_hints()).
    """
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            # PyYAML's own explanation stays in English: it names YAML's tokens.
            problem = error.problem or str(error)
            if error.context and problem.startswith("but "):
                problem = f"{error.context} {problem}"
            if mark is None:
                message = _("line 1: not valid YAML: %(problem)s") % {"problem": problem}
            else:
                message = _("line %(line)d, column %(column)d: not valid YAML: %(problem)s") % {
                    "line": mark.line + 1,
                    "column": mark.column + 1,
                    "problem": problem,
                }
            raise ProcessTemplateError([message]) from None
        except yaml.YAMLError as error:
            raise ProcessTemplateError(
                [_("line 1: not valid YAML: %(problem)s") % {"problem": error}]
            ) from None
        if root is None:
            raise ProcessTemplateError(
                [_("line 1: the document is empty; a template starts with 'version: 1'")]
            )
        reader = _TemplateReader(loader, rename_hints or plain_rename_hints())
        plan = reader.read(root, slug=slug, number_prefix=number_prefix, name=name)
    except RecursionError:
        raise ProcessTemplateError(
            [_("line 1: the document is nested too deeply to be a process template")]
        ) from None
    finally:
        loader.dispose()
    if reader.problems:
        raise ProcessTemplateError(reader.messages())
    return plan


@transaction.atomic
def import_process_template(
    text: str,
    *,
    slug: str | None = None,
    number_prefix: str | None = None,
    name: str | None = None,
    rename_hints: RenameHints | None = None,
) -> Pipeline:
    """Create a pipeline with its fields and stages from a template; all of it, or nothing.

    The whole document is checked first (see check_process_template); ProcessTemplateError lists
    every problem with its line, and nothing is written. `slug`, `number_prefix` and `name` rename;
    `rename_hints` say how to rename where a refusal is shown (the command's options, a form's fields).
    """
    renames: dict[str, Any] = {
        "slug": slug,
        "number_prefix": number_prefix,
        "name": name,
        "rename_hints": rename_hints,
    }
    plan = check_process_template(text, **renames)
    pipeline = plan.pipeline
    try:
        with transaction.atomic():
            pipeline.save()
    except IntegrityError:
        # Another import took the slug or prefix after the check: checking again names that pipeline.
        check_process_template(text, **renames)
        raise ProcessTemplateError(
            [_("another pipeline took this slug or number prefix while importing; import it again")]
        ) from None
    for position, definition in enumerate(plan.fields):
        definition.pipeline = pipeline
        definition.position = position
    FieldDefinition.objects.bulk_create(plan.fields)
    for position, stage in enumerate(plan.stages):
        stage.pipeline = pipeline
        stage.position = position
    Stage.objects.bulk_create(plan.stages)
    from orderflow.automation.models import ReminderSequence, Rule
    from orderflow.automation.provisions import provide_for_actions
    from orderflow.automation.services import rule_fields, sequence_fields

    Rule.objects.bulk_create(
        Rule(pipeline=pipeline, key=rule["key"], position=position, **rule_fields(rule))
        for position, rule in enumerate(plan.rules)
    )
    ReminderSequence.objects.bulk_create(
        ReminderSequence(pipeline=pipeline, key=sequence["key"], **sequence_fields(sequence))
        for sequence in plan.reminders
    )
    # The starter forms and kinds of call the rules name are added when missing, so the process runs.
    provide_for_actions(action for rule in plan.rules for action in rule["actions"])
    return pipeline


# --- shipped templates --------------------------------------------------------------------------


def shipped_templates() -> list[ShippedTemplate]:
    """The templates shipped in process_templates/, by file name."""
    found = []
    for path in sorted(SHIPPED_DIR.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        head = document["pipeline"]
        found.append(
            ShippedTemplate(
                path=path,
                name=head["name"],
                slug=head["slug"],
                number_prefix=head["number_prefix"],
                stage_count=len(document.get("stages") or []),
                field_count=len(document.get("fields") or []),
            )
        )
    return found


def shipped_template_path(name: str) -> Path | None:
    """The shipped template called `name` ("repair" or "repair.yaml"), or None if there is none."""
    stem = name.removesuffix(".yaml")
    path = SHIPPED_DIR / f"{stem}.yaml"
    return path if "/" not in stem and path.is_file() else None


def load_demo_process() -> Pipeline | None:
    """Load the web-design process (seed 000) if no pipeline exists yet; returns it, or None if skipped."""
    if Pipeline.objects.exists():
        return None
    return import_process_template(DEMO_TEMPLATE.read_text(encoding="utf-8"))
