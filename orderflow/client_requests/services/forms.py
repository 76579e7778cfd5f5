"""Writes to forms: creating them, editing their questions and moves (versioned), the starter forms."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from orderflow.accounts.models import User
from orderflow.client_requests.definitions import (
    FormDefinitionError,
    clean_definition,
)
from orderflow.client_requests.models import (
    ClientRequest,
    FormTemplate,
    FormVersion,
)
from orderflow.client_requests.services.sending import lock_request, require_editable
from orderflow.pipelines.models import Order, OrderEvent
from orderflow.pipelines.services import record_event


@transaction.atomic
def create_form(
    *,
    name: str,
    by: User | None,
    definition: dict[str, Any] | None = None,
    order: Order | None = None,
    description: str = "",
) -> FormTemplate:
    """A new form with version 1. With `order`, an ad-hoc form for that order, outside the library."""
    name = name.strip()
    if not name:
        raise FormDefinitionError(_("Give the form a name."))
    form = FormTemplate.objects.create(
        name=name[:200],
        description=description.strip()[:500],
        is_template=order is None,
        order=order,
        created_by=by,
    )
    FormVersion.objects.create(form=form, number=1, definition=clean_definition(definition or {}))
    return form


def is_version_frozen(version: FormVersion) -> bool:
    """Whether an edit must leave this version as it is (a library or ad-hoc form's version once sent).

    A request's own copy (`FormTemplate.client_request`) is edited in place while nobody has started
    answering, and refused after that.
    """
    if version.pk is None:
        return False
    if version.form.client_request_id is not None:
        return version.requests.exclude(status=ClientRequest.Status.PENDING).exists()
    return version.requests.exists()


@transaction.atomic
def save_definition(
    form: FormTemplate, definition: dict[str, Any], *, by: User | None, change: str = ""
) -> FormVersion:
    """Store a new definition of `form`; `change` says what changed, for the order's timeline.

    A version that has been sent never changes: editing a library or ad-hoc form after sending makes a
    new version, and requests already sent keep the questions they were sent with. A request's own copy
    (made by `own_form_for_request`) is edited in place while nobody has started answering (refused
    after), and each edit is a REQUEST_CHANGED event on the order.
    """
    if form.client_request_id is not None:
        return _save_request_questions(form, definition, by=by, change=change)
    FormTemplate.objects.select_for_update().get(pk=form.pk)
    cleaned = clean_definition(definition)
    latest = form.versions.order_by("-number").first()
    if latest is not None and not latest.requests.exists():
        latest.definition = cleaned
        latest.save(update_fields=["definition"])
        version = latest
    else:
        version = FormVersion.objects.create(
            form=form, number=(latest.number + 1 if latest else 1), definition=cleaned
        )
    form.__dict__.pop("latest_version", None)
    return version


def _save_request_questions(
    form: FormTemplate, definition: dict[str, Any], *, by: User | None, change: str
) -> FormVersion:
    request = lock_request(ClientRequest(pk=form.client_request_id))
    require_editable(request)
    cleaned = clean_definition(definition)
    version = request.form_version
    if version.form_id != form.pk:
        raise FormDefinitionError(_("These questions no longer belong to the request."))
    version.definition = cleaned
    version.save(update_fields=["definition"])
    record_event(
        request.order,
        OrderEvent.Kind.REQUEST_CHANGED,
        by=by,
        message=_("%(title)s: %(change)s")
        % {"title": request.title, "change": change or _("questions changed")},
        data={"request": request.pk, "questions": True},
    )
    form.__dict__.pop("latest_version", None)
    return version


@transaction.atomic
def own_form_for_request(request: ClientRequest, *, by: User | None) -> FormTemplate:
    """The form whose questions belong to `request` alone, copied from the form it was sent with on first use.

    Editing it changes this request only: the library or ad-hoc form it came from, and every other
    request sent with it, stay as they were. Refused once someone has started answering.
    """
    locked = lock_request(request)
    require_editable(locked)
    own = FormTemplate.objects.filter(client_request=locked).first()
    if own is not None:
        return own
    own = FormTemplate.objects.create(
        name=locked.title,
        description=locked.form_version.form.name,
        is_template=False,
        order=locked.order,
        client_request=locked,
        created_by=by,
    )
    version = FormVersion.objects.create(form=own, number=1, definition=locked.form_version.definition)
    locked.form_version = version
    locked.save(update_fields=["form_version", "updated_at"])
    return own


def _definition(form: FormTemplate) -> dict[str, Any]:
    version = form.versions.order_by("-number").first()
    return copy.deepcopy(version.definition) if version else {"questions": [], "moves": {}}


def add_question(form: FormTemplate, question: dict[str, Any], *, by: User | None) -> FormVersion:
    definition = _definition(form)
    definition["questions"] = [
        *definition.get("questions", []),
        {**question, "key": question.get("key") or ""},
    ]
    change = _("question “%(label)s” added") % {"label": question.get("label", "")}
    return save_definition(form, definition, by=by, change=change)


def replace_question(
    form: FormTemplate, key: str, question: dict[str, Any], *, by: User | None
) -> FormVersion:
    """Change question `key` in place; its key stays, so earlier answers still match it.

    Its wording in other languages stays for each part (label, help, choices) the edit left as it was.
    Choices renamed in place (same number of choices) carry the moves and show-if conditions naming them.
    """
    definition = _definition(form)
    questions = definition.get("questions", [])
    old = next((q for q in questions if q["key"] == key), None)
    if old is None:
        raise FormDefinitionError(_("That question no longer exists."))
    new = {**question, "key": key}
    if translations := _kept_translations(old, new):
        new["translations"] = translations
    renamed = _renamed_choices(old, new)
    definition["questions"] = [
        new if q["key"] == key else _rename_show_if(q, key, renamed) for q in questions
    ]
    moves = definition.get("moves") or {}
    if renamed and moves.get("question") == key:
        moves["values"] = {
            renamed.get(value, value): stage for value, stage in (moves.get("values") or {}).items()
        }
    change = _("question “%(label)s” changed") % {"label": question.get("label", "")}
    return save_definition(form, definition, by=by, change=change)


def _kept_translations(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    kept: dict[str, dict[str, Any]] = {}
    for language, wording in (old.get("translations") or {}).items():
        item = {
            part: text for part, text in wording.items() if (old.get(part) or None) == (new.get(part) or None)
        }
        if item:
            kept[language] = item
    return kept


def _renamed_choices(old: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
    before, after = old.get("choices") or [], new.get("choices") or []
    if len(before) != len(after) or old.get("type") != new.get("type"):
        return {}
    return {was: now for was, now in zip(before, after, strict=True) if was != now}


def _rename_show_if(question: dict[str, Any], key: str, renamed: dict[str, str]) -> dict[str, Any]:
    condition = question.get("show_if") or {}
    if condition.get("question") == key and condition.get("equals") in renamed:
        return {**question, "show_if": {**condition, "equals": renamed[condition["equals"]]}}
    return question


def remove_question(form: FormTemplate, key: str, *, by: User | None) -> FormVersion:
    definition = _definition(form)
    removed = next((q for q in definition.get("questions", []) if q["key"] == key), None)
    if removed is None:
        raise FormDefinitionError(_("That question no longer exists."))
    questions = [q for q in definition.get("questions", []) if q["key"] != key]
    for question in questions:
        if (question.get("show_if") or {}).get("question") == key:
            question.pop("show_if")
    moves = definition.get("moves") or {}
    if moves.get("question") == key:
        moves.pop("question", None)
        moves.pop("values", None)
    definition["questions"] = questions
    change = _("question “%(label)s” removed") % {"label": removed["label"]}
    return save_definition(form, definition, by=by, change=change)


def reorder_questions(form: FormTemplate, keys: Sequence[str], *, by: User | None) -> FormVersion:
    """Put the questions in the order of `keys` (unknown keys ignored, missing ones keep their place at the end)."""
    definition = _definition(form)
    questions = definition.get("questions", [])
    rank = {key: index for index, key in enumerate(keys)}
    definition["questions"] = sorted(questions, key=lambda q: rank.get(q["key"], len(rank)))
    try:
        return save_definition(form, definition, by=by, change=_("questions reordered"))
    except FormDefinitionError:
        raise FormDefinitionError(_("A question that depends on another must stay below it.")) from None


def shift_question(form: FormTemplate, key: str, direction: str, *, by: User | None) -> FormVersion:
    keys = [q["key"] for q in _definition(form).get("questions", [])]
    if key not in keys:
        raise FormDefinitionError(_("That question no longer exists."))
    index = keys.index(key)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(keys):
        keys[index], keys[other] = keys[other], keys[index]
    return reorder_questions(form, keys, by=by)


def save_moves(form: FormTemplate, moves: dict[str, Any], *, by: User | None) -> FormVersion:
    definition = _definition(form)
    definition["moves"] = moves
    return save_definition(form, definition, by=by, change=_("moves after answering changed"))


@transaction.atomic
def save_as_template(request: ClientRequest, *, name: str, by: User | None) -> FormTemplate:
    """Copy a request's questions into a new library form."""
    return create_form(name=name or request.title, by=by, definition=request.form_version.definition)


@transaction.atomic
def install_starter_forms(*, by: User | None) -> list[FormTemplate]:
    """Add the seed forms (website questionnaire, design review) to the library unless a form has their name.

    They come in English, Portuguese and Russian: each recipient reads them in their own language. A
    starter form added before it had translations, and never edited since, gets them now.
    """
    from orderflow.client_requests.starter_forms import STARTER_FORMS

    installed = []
    for starter in STARTER_FORMS:
        form = FormTemplate.objects.filter(is_template=True, name=starter["name"]).order_by("id").first()
        if form is None:
            form = create_form(
                name=starter["name"],
                description=starter["description"],
                definition=starter["definition"],
                by=by,
            )
        elif _definition(form) == clean_definition(_english_only(starter["definition"])):
            save_definition(form, starter["definition"], by=by)
        installed.append(form)
    return installed


def _english_only(definition: dict[str, Any]) -> dict[str, Any]:
    """A starter definition as it was shipped before it had translations."""
    questions = [
        {key: value for key, value in question.items() if key != "translations"}
        for question in definition["questions"]
    ]
    return {"questions": questions, "moves": definition.get("moves", {})}
