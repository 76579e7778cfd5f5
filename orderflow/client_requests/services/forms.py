"""Writes to forms: creating them, editing their questions and moves (versioned), the starter forms."""

from __future__ import annotations

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
from orderflow.pipelines.models import Order


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
    """A version someone started answering (or that was submitted or cancelled) never changes again."""
    return version.pk is not None and version.requests.exclude(status=ClientRequest.Status.PENDING).exists()


@transaction.atomic
def save_definition(form: FormTemplate, definition: dict[str, Any], *, by: User | None) -> FormVersion:
    """Store a new definition: in place while no answer depends on the latest version, else as a new version.

    Requests nobody has started answering follow the edit (their questions may still change);
    answered ones keep the version they answered.
    """
    FormTemplate.objects.select_for_update().get(pk=form.pk)
    cleaned = clean_definition(definition)
    latest = form.versions.order_by("-number").first()
    if latest is not None and not is_version_frozen(latest):
        latest.definition = cleaned
        latest.save(update_fields=["definition"])
        version = latest
    else:
        version = FormVersion.objects.create(
            form=form, number=(latest.number + 1 if latest else 1), definition=cleaned
        )
        if latest is not None:
            # Requests still waiting for a first answer move to the new questions.
            ClientRequest.objects.filter(form_version__form=form, status=ClientRequest.Status.PENDING).update(
                form_version=version
            )
    form.__dict__.pop("latest_version", None)
    return version


def _definition(form: FormTemplate) -> dict[str, Any]:
    version = form.versions.order_by("-number").first()
    return dict(version.definition) if version else {"questions": [], "moves": {}}


def add_question(form: FormTemplate, question: dict[str, Any], *, by: User | None) -> FormVersion:
    definition = _definition(form)
    definition["questions"] = [
        *definition.get("questions", []),
        {**question, "key": question.get("key") or ""},
    ]
    return save_definition(form, definition, by=by)


def replace_question(
    form: FormTemplate, key: str, question: dict[str, Any], *, by: User | None
) -> FormVersion:
    """Change question `key` in place; its key stays, so earlier answers still match it."""
    definition = _definition(form)
    questions = definition.get("questions", [])
    if not any(q["key"] == key for q in questions):
        raise FormDefinitionError(_("That question no longer exists."))
    definition["questions"] = [{**question, "key": key} if q["key"] == key else q for q in questions]
    return save_definition(form, definition, by=by)


def remove_question(form: FormTemplate, key: str, *, by: User | None) -> FormVersion:
    definition = _definition(form)
    questions = [q for q in definition.get("questions", []) if q["key"] != key]
    for question in questions:
        if (question.get("show_if") or {}).get("question") == key:
            question.pop("show_if")
    moves = definition.get("moves") or {}
    if moves.get("question") == key:
        moves.pop("question", None)
        moves.pop("values", None)
    definition["questions"] = questions
    return save_definition(form, definition, by=by)


def reorder_questions(form: FormTemplate, keys: Sequence[str], *, by: User | None) -> FormVersion:
    """Put the questions in the order of `keys` (unknown keys ignored, missing ones keep their place at the end)."""
    definition = _definition(form)
    questions = definition.get("questions", [])
    rank = {key: index for index, key in enumerate(keys)}
    definition["questions"] = sorted(questions, key=lambda q: rank.get(q["key"], len(rank)))
    try:
        return save_definition(form, definition, by=by)
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
    return save_definition(form, definition, by=by)


@transaction.atomic
def save_as_template(request: ClientRequest, *, name: str, by: User | None) -> FormTemplate:
    """Copy a request's questions into a new library form."""
    return create_form(name=name or request.title, by=by, definition=request.form_version.definition)


@transaction.atomic
def install_starter_forms(*, by: User | None) -> list[FormTemplate]:
    """Add the seed forms (website questionnaire, design review) to the library unless a form has their name."""
    from orderflow.client_requests.starter_forms import STARTER_FORMS

    installed = []
    for starter in STARTER_FORMS:
        form = FormTemplate.objects.filter(is_template=True, name=starter["name"]).first()
        if form is None:
            form = create_form(
                name=starter["name"],
                description=starter["description"],
                definition=starter["definition"],
                by=by,
            )
        installed.append(form)
    return installed
