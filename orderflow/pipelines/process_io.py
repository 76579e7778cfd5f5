"""Process templates: a pipeline with its stages as a YAML document, and loading one into the database.

This first version carries the pipeline and its stages; forms, rules and messages join later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from orderflow.errors import DomainError
from orderflow.pipelines.models import Pipeline, Stage

SHIPPED_DIR = Path(__file__).resolve().parent / "process_templates"
DEMO_TEMPLATE = SHIPPED_DIR / "web-design.yaml"


class ProcessTemplateError(DomainError):
    code = "process_template_invalid"


@dataclass(frozen=True)
class StageSpec:
    key: str
    name: str
    client_label: str
    client_label_translations: dict[str, str]
    category: str
    color: str
    is_side: bool
    notify_client: bool


def _stage_spec(raw: Any, index: int) -> StageSpec:
    where = f"stages[{index}]"
    if not isinstance(raw, dict):
        raise ProcessTemplateError(f"{where}: expected a mapping with key and name")
    for field in ("key", "name"):
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise ProcessTemplateError(f"{where}.{field}: missing or empty")
    category = raw.get("category", Stage.Category.OPEN)
    if category not in Stage.Category.values:
        raise ProcessTemplateError(
            f"{where}.category: {category!r} is not one of {', '.join(Stage.Category.values)}"
        )
    return StageSpec(
        key=raw["key"],
        name=raw["name"],
        client_label=raw.get("client_label", ""),
        client_label_translations=dict(raw.get("client_label_translations") or {}),
        category=category,
        color=raw.get("color", "#64748b"),
        is_side=bool(raw.get("side", False)),
        notify_client=bool(raw.get("notify_client", True)),
    )


@transaction.atomic
def import_process_template(text: str) -> Pipeline:
    """Create a pipeline and its stages from YAML; refuses the whole document on the first error."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ProcessTemplateError(f"not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("pipeline"), dict):
        raise ProcessTemplateError("pipeline: missing")
    head = document["pipeline"]
    stages = [_stage_spec(raw, i) for i, raw in enumerate(document.get("stages") or [])]
    if not stages:
        raise ProcessTemplateError("stages: a pipeline needs at least one stage")
    if Pipeline.objects.filter(slug=head.get("slug")).exists():
        raise ProcessTemplateError(f"pipeline.slug: a pipeline called {head.get('slug')!r} exists already")
    pipeline = Pipeline(
        name=head.get("name", ""),
        slug=head.get("slug", ""),
        number_prefix=head.get("number_prefix", ""),
        description=head.get("description", ""),
    )
    pipeline.full_clean()
    pipeline.save()
    for position, spec in enumerate(stages):
        stage = Stage(
            pipeline=pipeline,
            key=spec.key,
            name=spec.name,
            client_label=spec.client_label,
            client_label_translations=spec.client_label_translations,
            category=spec.category,
            color=spec.color,
            is_side=spec.is_side,
            notify_client=spec.notify_client,
            position=position,
        )
        stage.full_clean(exclude=["pipeline"])
        stage.save()
    return pipeline


def load_demo_process() -> Pipeline | None:
    """Load the web-design process (seed 000) if no pipeline exists yet; returns it, or None if skipped."""
    if Pipeline.objects.exists():
        return None
    return import_process_template(DEMO_TEMPLATE.read_text(encoding="utf-8"))
