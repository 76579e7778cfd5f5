"""Message templates: sandboxed rendering, placeholder checks, and the context a message may use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import FilterExpression, Node, TextNode, Variable, VariableNode
from django.template.defaulttags import IfNode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, Organisation
from orderflow.notifications import defaults
from orderflow.notifications.models import Channel, MessageTemplate
from orderflow.pipelines.models import Order, Stage

# Every placeholder a template may use. The context holds only strings, so nothing in a template
# can reach a model, a method or a setting.
PLACEHOLDERS: dict[str, str] = {
    "client.name": "Ana Client",
    "client.first_name": "Ana",
    "order.number": "WEB-00042",
    "order.title": "Bakery website",
    "stage.label": "Waiting for your questionnaire",
    "stage.description": "",
    "organisation.name": "My agency",
    "links.portal": "",
    "links.tracking": "",
    "links.request": "",
    "links.booking": "",
    "links.feedback": "",
    "upsell": "",
}
# Sample values for previews and the placeholder list (links as they would look).
SAMPLE_LINKS = {
    "links.request": "https://example.com/r/…",
    "links.booking": "https://example.com/book/…",
    "links.feedback": "https://example.com/messages/feedback/…",
}
ALLOWED_FILTERS = frozenset({"default", "upper", "lower", "capfirst", "title", "truncatechars"})

# No loaders, no template directories, no extra libraries: {% include %} and {% extends %} find nothing.
_ENGINE = Engine(dirs=[], app_dirs=False, libraries={}, debug=False, string_if_invalid="")


class TemplateProblem(ValueError):
    """A template that would not render what staff meant; `message` says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _variables_of_condition(condition: Any) -> list[FilterExpression]:
    """The filter expressions inside an {% if %} condition (operators nest with first/second)."""
    if condition is None:
        return []
    if isinstance(getattr(condition, "value", None), FilterExpression):
        return [condition.value]
    found: list[FilterExpression] = []
    for part in (getattr(condition, "first", None), getattr(condition, "second", None)):
        found += _variables_of_condition(part)
    return found


def _check_expression(expression: FilterExpression) -> None:
    variable = expression.var
    if isinstance(variable, Variable) and variable.var is not None and variable.lookups is not None:
        name = str(variable.var)
        if name not in PLACEHOLDERS:
            raise TemplateProblem(
                _("There is no placeholder {{ %(name)s }}. Use one of: %(known)s.")
                % {"name": name, "known": ", ".join(f"{{{{ {key} }}}}" for key in PLACEHOLDERS)}
            )
    for function, _arguments in expression.filters:
        filter_name = getattr(function, "_filter_name", function.__name__)
        if filter_name not in ALLOWED_FILTERS:
            raise TemplateProblem(
                _("The filter “%(name)s” cannot be used in messages.") % {"name": filter_name}
            )


def _check_nodes(nodes: list[Node]) -> None:
    for node in nodes:
        if isinstance(node, TextNode):
            continue
        if isinstance(node, VariableNode):
            _check_expression(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, nodelist in node.conditions_nodelists:
                for expression in _variables_of_condition(condition):
                    _check_expression(expression)
                _check_nodes(list(nodelist))
        else:
            raise TemplateProblem(
                _("Messages may use placeholders and {%% if %%} only, not “%(tag)s”.")
                % {"tag": node.token.contents if node.token is not None else type(node).__name__}
            )


def check_template(source: str) -> None:
    """Raise TemplateProblem if `source` is not valid, uses an unknown placeholder or a forbidden tag."""
    try:
        template = _ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateProblem(_("The template cannot be read: %(error)s") % {"error": error}) from None
    _check_nodes(list(template.nodelist))


def _nested(flat: dict[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        branch = tree
        for parent in parents:
            branch = branch.setdefault(parent, {})
        branch[leaf] = value
    return tree


def render_source(source: str, values: dict[str, str], *, autoescape: bool = False) -> str:
    """Render a checked template with placeholder values only (missing ones render empty)."""
    check_template(source)
    context = _nested({**dict.fromkeys(PLACEHOLDERS, ""), **values})
    return _ENGINE.from_string(source).render(Context(context, autoescape=autoescape))


def placeholder_values(
    *,
    contact: Contact,
    order: Order | None,
    stage: Stage | None,
    language: str,
    links: dict[str, str] | None = None,
    upsell: str = "",
) -> dict[str, str]:
    """The values of every placeholder for one message. Upsell text is dropped for opted-out clients.

    Links are only those given: `links.portal` and `links.tracking` stay empty (no such pages yet).
    """
    values = {
        "client.name": contact.name,
        "client.first_name": (contact.name.split() or [""])[0],
        "organisation.name": Organisation.current().name,
        "upsell": "" if contact.marketing_opt_out else upsell,
    }
    if order is not None:
        values.update({"order.number": order.reference, "order.title": order.title})
    if stage is not None:
        values.update(
            {
                "stage.label": stage.label_for_client_in(language),
                "stage.description": stage.description_for_client_in(language),
            }
        )
    for name, url in (links or {}).items():
        values[f"links.{name}"] = url
    return values


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body_text: str
    body_html: str


@dataclass(frozen=True)
class TemplateSource:
    subject: str
    body: str
    upsell: str = ""


def template_source(event: str, channel: str, language: str) -> TemplateSource:
    """The source for the event, channel and language: staff's own wording (with their optional offer),
    else the shipped default (no offer)."""
    own = MessageTemplate.objects.filter(event=event, channel=channel, language=language).first()
    if own is not None:
        return TemplateSource(own.subject, own.body, own.upsell)
    return TemplateSource(*defaults.default_template(event, channel, language))


def template_for(event: str, channel: str, language: str) -> tuple[str, str]:
    """(subject, body) source for the event, channel and language: staff's own, else the shipped default."""
    source = template_source(event, channel, language)
    return source.subject, source.body


def render_message(
    event: str, channel: str, language: str, values: dict[str, str], *, with_upsell: bool = False
) -> RenderedMessage:
    """Render the message; the template's offer fills {{ upsell }} only `with_upsell` (the client did
    not refuse offers), else the placeholder is empty and {% if upsell %} blocks drop out."""
    source = template_source(event, channel, language)
    subject_source, body_source = source.subject, source.body
    values = {**values, "upsell": render_source(source.upsell, values).strip() if with_upsell else ""}
    subject = " ".join(render_source(subject_source, values).split())
    body = render_source(body_source, values).strip() + "\n"
    html = ""
    if channel == Channel.EMAIL:
        from django.template.loader import render_to_string

        html = render_to_string(
            "notifications/email/message.html",
            # Rendered with autoescaping on, so it is safe HTML text; linebreaks adds the paragraphs.
            {
                "subject": subject,
                "body": mark_safe(render_source(body_source, values, autoescape=True).strip()),
            },
        )
    return RenderedMessage(subject=subject, body_text=body, body_html=html)
