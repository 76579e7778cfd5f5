"""Process templates: shipped files round-trip byte for byte, broken files are refused whole, the command works."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from orderflow.errors import DomainError
from orderflow.pipelines.models import FieldDefinition, Pipeline, Stage
from orderflow.pipelines.process_io import (
    DEMO_TEMPLATE,
    SHIPPED_DIR,
    ProcessTemplateError,
    export_process_template,
    import_process_template,
    load_demo_process,
    shipped_templates,
)

SHIPPED = sorted(SHIPPED_DIR.glob("*.yaml"))
WEB = DEMO_TEMPLATE.read_text(encoding="utf-8")
WEB_WITHOUT_AUTOMATION = WEB[: WEB.index("rules:\n")]


def _line_of(text: str, needle: str) -> int:
    """The 1-based number of the first line of `text` containing `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the text")


def _counts() -> tuple[int, int, int]:
    return Pipeline.objects.count(), Stage.objects.count(), FieldDefinition.objects.count()


def _refusal(text: str, **renames: Any) -> list[str]:
    """The error lines of a refused import, after checking that nothing at all was written."""
    before = _counts()
    with pytest.raises(ProcessTemplateError) as refused:
        import_process_template(text, **renames)
    assert _counts() == before
    return refused.value.errors


# --- round trips ---------------------------------------------------------------------------------


def test_five_templates_ship() -> None:
    assert [path.name for path in SHIPPED] == [
        "academic-writing.yaml",
        "custom-manufacturing.yaml",
        "purchase-and-delivery.yaml",
        "repair.yaml",
        "web-design.yaml",
    ]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_template_is_its_own_export_byte_for_byte(db: None, path: Path) -> None:
    pipeline = import_process_template(path.read_text(encoding="utf-8"))

    assert export_process_template(pipeline).encode("utf-8") == path.read_bytes()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_export_import_export_is_byte_identical(db: None, path: Path) -> None:
    first = export_process_template(import_process_template(path.read_text(encoding="utf-8")))
    Pipeline.objects.all().delete()

    again = export_process_template(import_process_template(first))

    assert again.encode("utf-8") == first.encode("utf-8")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_a_template_imported_again_under_a_new_slug_exports_the_same_but_for_the_new_names(
    db: None, path: Path
) -> None:
    original = import_process_template(path.read_text(encoding="utf-8"))
    first = export_process_template(original)

    copy = import_process_template(first, slug="copy-of-it", number_prefix="COPY", name="Copy")

    expected = (
        first.replace(f"  name: {original.name}\n", "  name: Copy\n", 1)
        .replace(f"  slug: {original.slug}\n", "  slug: copy-of-it\n", 1)
        .replace(f"  number_prefix: {original.number_prefix}\n", "  number_prefix: COPY\n", 1)
    )
    assert export_process_template(copy) == expected
    assert copy.stages.count() == original.stages.count()
    assert copy.fields.count() == original.fields.count()


def test_shipped_templates_are_complete_for_clients_in_three_languages(db: None) -> None:
    for path in SHIPPED:
        pipeline = import_process_template(path.read_text(encoding="utf-8"))
        stages = list(pipeline.stages.all())
        for stage in stages:
            assert stage.client_label, (path.name, stage.key)
            assert set(stage.client_label_translations) == {"pt", "ru"}, (path.name, stage.key)
        categories = {stage.category for stage in stages}
        assert Stage.Category.WON in categories, path.name
        assert {Stage.Category.ON_HOLD, Stage.Category.CANCELLED} <= categories, path.name
        assert all(
            stage.category == Stage.Category.OPEN
            for stage in stages
            if not stage.is_side and not stage.is_closed
        )


def test_web_design_template_keeps_the_agency_statuses_and_adds_its_fields(db: None) -> None:
    pipeline = import_process_template(WEB)

    assert list(pipeline.stages.filter(is_side=False).values_list("name", flat=True)) == [
        "Order Received",
        "Questionnaire Sent",
        "Questionnaire Received",
        "Followup Call Scheduled",
        "Initial Design in Production",
        "Initial Design Sent for Customer Review",
        "Revisions Submitted",
        "Revisions in Production",
        "Website Approved",
        "Site Launched",
    ]
    assert list(pipeline.stages.filter(is_side=True).values_list("key", flat=True)) == [
        "on-hold",
        "waiting-for-content",
        "cancelled",
    ]
    assert dict(pipeline.fields.values_list("label", "kind")) == {
        "Domain name": "text",
        "Package": "choice",
        "Budget": "money",
        "Launch date": "date",
        "Live site": "url",
    }
    assert pipeline.stages.get(key="site-launched").label_for_client_in("pt") == "O seu site está online"


def test_every_attribute_survives_the_round_trip_and_defaults_are_left_out(db: None) -> None:
    pipeline = Pipeline.objects.create(
        name="Événements «sur mesure»",
        slug="events",
        number_prefix="EV1",
        description="Two lines:\nthe second one — with a dash.",
        currency="BRL",
    )
    FieldDefinition.objects.create(
        pipeline=pipeline,
        key="size",
        label="yes",
        kind=FieldDefinition.Kind.CHOICE,
        is_required=True,
        choices=["10", "true", "Größe: XL"],
        help_text="# not a comment",
        position=0,
    )
    FieldDefinition.objects.create(pipeline=pipeline, key="note", label="Note", position=1)
    Stage.objects.create(pipeline=pipeline, key="new", name="New", position=0)
    Stage.objects.create(
        pipeline=pipeline,
        key="booked",
        name="Booked",
        client_label="Booked: see you soon",
        client_label_translations={"ru": "Забронировано", "pt": "Reservado"},
        client_description="We hold the venue for you.",
        client_description_translations={"ru": "Мы держим для вас зал.", "pt": "Guardamos o espaço para si."},
        category=Stage.Category.ON_HOLD,
        color="#ABCDEF",
        is_side=True,
        notify_client=False,
        allowed_roles=["manager", "admin"],
        allowed_from=["new"],
        required_fields=["size"],
        max_days=14,
        position=1,
    )
    text = export_process_template(pipeline)
    pipeline.delete()

    again = import_process_template(text)

    assert export_process_template(again) == text
    booked = again.stages.get(key="booked")
    assert (booked.allowed_roles, booked.allowed_from, booked.required_fields) == (
        ["manager", "admin"],
        ["new"],
        ["size"],
    )
    assert (booked.is_side, booked.notify_client, booked.max_days, booked.color) == (
        True,
        False,
        14,
        "#ABCDEF",
    )
    assert booked.client_label_translations == {"pt": "Reservado", "ru": "Забронировано"}
    assert booked.client_description_translations == {
        "pt": "Guardamos o espaço para si.",
        "ru": "Мы держим для вас зал.",
    }
    assert booked.description_for_client_in("pt") == "Guardamos o espaço para si."
    booked_entry = text[text.index("- key: booked") :]
    assert booked_entry.index("client_description: We hold") < booked_entry.index(
        "client_description_translations:\n      pt: Guardamos o espaço para si.\n      ru: Мы держим"
    )
    size = again.fields.get(key="size")
    assert (size.label, size.choices, size.is_required) == ("yes", ["10", "true", "Größe: XL"], True)
    assert again.description == "Two lines:\nthe second one — with a dash."
    assert "Забронировано" in text  # UTF-8, not \u escapes
    new_stage = text[text.index("- key: new") : text.index("- key: booked")]
    assert [line.strip() for line in new_stage.strip().splitlines()] == ["- key: new", "name: New"]


def test_export_writes_a_fixed_header_and_key_order(db: None) -> None:
    pipeline = Pipeline.objects.create(name="Order", slug="order", number_prefix="ORD", currency="USD")
    Stage.objects.create(pipeline=pipeline, key="new", name="New", max_days=3, category=Stage.Category.OPEN)

    assert export_process_template(pipeline).splitlines() == [
        "# Orderflow process template. Load it with: orderflow process_template import <this file>",
        "version: 1",
        "pipeline:",
        "  name: Order",
        "  slug: order",
        "  number_prefix: ORD",
        "  currency: USD",
        "stages:",
        "  - key: new",
        "    name: New",
        "    max_days: 3",
    ]


# --- refusals ------------------------------------------------------------------------------------


def test_bad_yaml_syntax_is_refused_with_its_line(db: None) -> None:
    text = WEB.replace("  slug: website", "\tslug: website")

    errors = _refusal(text)

    assert errors == [
        f"line {_line_of(text, 'slug: website')}, column 1: not valid YAML: "
        "found character '\\t' that cannot start any token"
    ]


def test_an_unclosed_bracket_is_refused_where_yaml_notices_it(db: None) -> None:
    text = WEB.replace("  name: Website project", "  name: [Website project")

    errors = _refusal(text)

    assert errors == [
        f"line {_line_of(text, 'slug: website')}, column 7: not valid YAML: expected ',' or ']', but got ':'"
    ]


def test_a_category_that_does_not_exist_is_named_with_line_and_path(db: None) -> None:
    text = WEB.replace("category: won", "category: closed")

    errors = _refusal(text)

    assert errors == [
        f"line {_line_of(text, 'category: closed')}, stages[9].category: "
        "'closed' is not one of open, on_hold, won, lost, cancelled"
    ]


def test_an_unknown_key_is_refused_with_a_suggestion(db: None) -> None:
    text = WEB.replace("    max_days: 10\n", "    max_days: 10\n    colour: '#ffffff'\n")

    errors = _refusal(text)

    assert errors == [
        f"line {_line_of(text, 'colour:')}, stages[4].colour: unknown key 'colour' in a stage; did you mean 'color'?"
    ]


def test_sections_of_later_versions_are_refused_until_they_are_read(db: None) -> None:
    text = WEB.replace("version: 1\n", "version: 1\nforms: []\n")

    errors = _refusal(text)

    assert len(errors) == 1
    assert errors[0].startswith(
        f"line {_line_of(text, 'forms:')}, forms: the section 'forms' is not supported yet"
    )


def test_a_duplicate_stage_key_is_refused(db: None) -> None:
    text = WEB_WITHOUT_AUTOMATION.replace("key: questionnaire-received", "key: questionnaire-sent")

    errors = _refusal(text)

    first = _line_of(text, "key: questionnaire-sent")
    second = (
        _line_of(text[text.index("key: questionnaire-sent") + 1 :], "key: questionnaire-sent") + first - 1
    )
    assert errors == [
        f"line {second}, stages[2].key: stage key 'questionnaire-sent' is used twice (first on line {first})"
    ]


def test_a_duplicate_field_key_is_refused(db: None) -> None:
    text = WEB.replace("- key: budget", "- key: package")

    errors = _refusal(text)

    assert len(errors) == 1
    assert errors[0].startswith(
        f"line {_line_of(text, 'label: Budget') - 1}, fields[2].key: field key 'package'"
    )


def test_allowed_from_must_name_a_stage_of_the_template(db: None) -> None:
    text = WEB.replace("      - initial-design-sent\n", "      - design-sent\n")

    errors = _refusal(text)

    assert len(errors) == 1
    assert errors[0].startswith(
        f"line {_line_of(text, '- design-sent')}, stages[6].allowed_from[0]: 'design-sent' is not a stage"
    )


def test_required_fields_must_name_a_field_of_the_template(db: None) -> None:
    text = WEB.replace("    max_days: 5\n", "    max_days: 5\n    required_fields:\n      - domain\n")

    errors = _refusal(text)

    assert errors == [
        f"line {_line_of(text, '- domain')}, stages[7].required_fields[0]: 'domain' is not a field of this "
        "template; its fields are domain-name, package, budget, launch-date, live-site"
    ]


def test_a_colour_must_be_written_as_rrggbb(db: None) -> None:
    text = WEB.replace("color: '#f59e0b'", "color: orange", 1)

    errors = _refusal(text)

    assert errors == [
        f"line {_line_of(text, 'color: orange')}, stages[1].color: 'orange' is not a colour written as #rrggbb, "
        "e.g. '#3b82f6'"
    ]


def test_a_taken_slug_and_prefix_are_refused_and_a_rename_imports(db: None) -> None:
    import_process_template(WEB)

    errors = _refusal(WEB)

    assert errors == [
        f"line {_line_of(WEB, 'slug: website')}, pipeline.slug: 'website' is already the slug of the pipeline "
        "“Website project”; import it under another slug",
        f"line {_line_of(WEB, 'number_prefix: WEB')}, pipeline.number_prefix: 'WEB' is already the number "
        "prefix of the pipeline “Website project”; import it under another number prefix",
    ]
    copy = import_process_template(WEB, slug="website-2", number_prefix="WEB2")
    assert (copy.slug, copy.number_prefix, copy.stages.count()) == ("website-2", "WEB2", 13)


def test_a_stage_may_name_the_contractor_but_not_the_client(db: None) -> None:
    contractor = WEB.replace(
        "    max_days: 10\n", "    allowed_roles:\n      - contractor\n    max_days: 10\n"
    )
    client = contractor.replace("      - contractor\n", "      - client\n      - author\n")

    errors = _refusal(client)

    assert errors == [
        f"line {_line_of(client, '- client')}, stages[4].allowed_roles[0]: Clients do not set stages by hand; "
        "a rule moves the order when the client answers, books or pays.",
        f"line {_line_of(client, '- author')}, stages[4].allowed_roles[1]: “author” is not a role that sets "
        "stages; use admin, manager, rep, contractor.",
    ]
    pipeline = import_process_template(contractor)
    assert pipeline.stages.get(key="initial-design-in-production").allowed_roles == ["contractor"]
    assert export_process_template(pipeline) == contractor


def test_client_descriptions_in_other_languages_are_checked_like_in_settings(db: None) -> None:
    stage = "    name: Order Received\n"
    text = WEB.replace(
        stage,
        stage
        + "    client_description: We have your order.\n"
        + "    client_description_translations:\n"
        + "      de: Wir haben Ihre Bestellung.\n"
        + "      ru: "
        + "Ж" * 301
        + "\n"
        + "      pt: ''\n",
        1,
    )

    errors = _refusal(text)

    assert errors == [
        f"line {_line_of(text, 'de: Wir')}, stages[0].client_description_translations.de: 'de' is not a "
        "language Orderflow speaks besides English; use pt, ru",
        f"line {_line_of(text, 'ru: ЖЖ')}, stages[0].client_description_translations.ru: at most 300 "
        "characters, got 301",
        f"line {_line_of(text, 'pt: ')}, stages[0].client_description_translations.pt: must not be empty",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_simultaneous_imports_of_one_template_make_one_pipeline_and_name_it_to_the_others(
    attempt: int,
) -> None:
    text = (SHIPPED_DIR / "repair.yaml").read_text(encoding="utf-8")
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def import_it() -> None:
        try:
            barrier.wait(timeout=10)
            import_process_template(text)
            outcomes.append("imported")
        except ProcessTemplateError as error:
            outcomes.append("\n".join(error.errors))
        except Exception as error:
            outcomes.append(f"crashed: {type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=import_it) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == 3
    assert outcomes.count("imported") == 1, outcomes
    # Whether a loser was refused by the check or by the unique index mid-import, it is told who has the
    # names: both, or only the number prefix when the winner committed between the check's two lookups.
    for refusal in (outcome for outcome in outcomes if outcome != "imported"):
        assert "'REP' is already the number prefix of the pipeline “Repair”" in refusal, refusal
    assert _counts() == (1, 11, 7)


def test_a_rename_is_checked_like_the_file(db: None) -> None:
    errors = _refusal(WEB, number_prefix="web-2")

    assert errors == [
        f"line {_line_of(WEB, 'number_prefix: WEB')}, pipeline.number_prefix: 'web-2' is not 2 to 8 capital "
        "letters or digits starting with a letter, e.g. WEB"
    ]


def test_every_problem_of_a_document_is_reported_at_once(db: None) -> None:
    text = (
        WEB.replace("version: 1", "version: 2")
        .replace("number_prefix: WEB", "number_prefix: web")
        .replace("kind: money", "kind: cash")
        .replace("      - Starter\n", "")
        .replace("      - Business\n", "      - Business\n      - Business\n")
        .replace("    max_days: 10\n", "    max_days: 0\n    allowed_roles:\n      - owner\n")
        .replace("side: true", "side: maybe", 1)
        .replace("name: Order Received", "name: " + "x" * 121)
        .replace("pt: Pedido recebido", "PT: Pedido recebido")
    )

    errors = _refusal(text)

    paths = [error.split(": ", 1)[0].split(", ", 1)[1] for error in errors]
    assert paths == [
        "version",
        "pipeline.number_prefix",
        "fields[1].choices[1]",
        "fields[2].kind",
        "stages[0].name",
        "stages[0].client_label_translations.PT",
        "stages[4].max_days",
        "stages[4].allowed_roles[0]",
        "stages[10].side",
    ]
    assert "Ensure this value has at most 120 characters" in errors[4]  # the model's own validator


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: the document is empty; a template starts with 'version: 1'"),
        ("- a\n", "line 1: expected a process template (version, pipeline, fields, stages), got a list"),
        (
            "version: 1\npipeline: {name: X, slug: x, number_prefix: XX}\nstages: []\n",
            "line 3, stages: a pipeline needs at least one stage",
        ),
        (
            "version: 1\npipeline: {name: X, slug: x}\nstages: [{key: a, name: A}]\n",
            "line 2, pipeline.number_prefix: missing",
        ),
        (
            "version: 1\npipeline: {name: X, slug: x, number_prefix: XX}\nstages: [{key: a, name: A, category: won}]\n",
            "line 3, stages[0].category: new orders start in the first main stage, so it must be open, not 'won'",
        ),
        (
            "version: 1\npipeline: {name: X, slug: x, number_prefix: XX}\n"
            "fields: [{key: size, label: Size, kind: choice}]\nstages: [{key: a, name: A}]\n",
            "line 3, fields[0].choices: a choice field needs at least one choice",
        ),
        (
            "version: 1\npipeline: {name: X, slug: x, number_prefix: XX}\nstages: [{key: a, name: A, name: B}]\n",
            "line 3, stages[0].name: given twice (first on line 3)",
        ),
        (
            "version: !!python/name:os.system 1\npipeline: {name: X, slug: x, number_prefix: XX}\n"
            "stages: [{key: a, name: A}]\n",
            "line 1, version: cannot read this value: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/name:os.system'",
        ),
    ],
    ids=[
        "empty",
        "list",
        "no-stages",
        "missing-key",
        "first-stage-closed",
        "choice-without-choices",
        "yaml-duplicate",
        "unsafe-tag",
    ],
)
def test_small_broken_documents_are_refused(db: None, text: str, expected: str) -> None:
    assert _refusal(text) == [expected]


def test_the_refusal_is_a_domain_error_listing_every_line(db: None) -> None:
    with pytest.raises(DomainError) as refused:
        import_process_template(WEB.replace("category: won", "category: closed"))

    assert refused.value.code == "process_template_invalid"
    assert str(refused.value).splitlines()[0] == "The process template has 1 problem; nothing was imported."
    assert "stages[9].category" in str(refused.value)


# --- the demo process ----------------------------------------------------------------------------


def test_demo_process_loads_once_into_an_empty_installation(db: None) -> None:
    pipeline = load_demo_process()

    assert pipeline is not None
    assert pipeline.slug == "website"
    assert load_demo_process() is None
    assert Pipeline.objects.count() == 1


# --- the management command ----------------------------------------------------------------------


def test_command_lists_the_shipped_templates(db: None) -> None:
    import_process_template(WEB)
    out = io.StringIO()

    call_command("process_template", "list", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == [template.path.stem for template in shipped_templates()]
    assert next(line for line in lines if line.startswith("web-design")).endswith("imported")


def test_command_exports_a_pipeline_to_a_file_and_to_standard_output(db: None, tmp_path: Path) -> None:
    import_process_template(WEB)
    target = tmp_path / "website.yaml"
    out = io.StringIO()

    call_command("process_template", "export", "website", "-o", str(target), stderr=io.StringIO())
    call_command("process_template", "export", "website", stdout=out)

    assert target.read_bytes() == DEMO_TEMPLATE.read_bytes()
    assert out.getvalue() == WEB


def test_command_export_of_an_unknown_slug_fails(db: None) -> None:
    with pytest.raises(CommandError, match="no pipeline with the slug 'nope'"):
        call_command("process_template", "export", "nope")


def test_command_imports_a_file_or_a_shipped_template_by_name_and_renames(db: None, tmp_path: Path) -> None:
    source = tmp_path / "mine.yaml"
    source.write_text((SHIPPED_DIR / "repair.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    out = io.StringIO()

    call_command("process_template", "import", "repair", stdout=out)
    call_command(
        "process_template",
        "import",
        str(source),
        "--slug",
        "repair-north",
        "--prefix",
        "RN",
        "--name",
        "North",
        stdout=out,
    )

    assert "Imported “Repair” (slug repair, orders REP-00001 …): 11 stages, 7 fields." in out.getvalue()
    north = Pipeline.objects.get(slug="repair-north")
    assert (north.name, north.number_prefix, north.stages.count()) == ("North", "RN", 11)


def test_command_import_under_a_taken_slug_names_the_options_that_rename(db: None) -> None:
    import_process_template(WEB)

    with pytest.raises(CommandError) as refused:
        call_command("process_template", "import", "web-design")

    assert (
        "is already the slug of the pipeline “Website project”; import it under another slug (--slug)"
        in str(refused.value)
    )
    assert "import it under another number prefix (--prefix)" in str(refused.value)
    assert Pipeline.objects.count() == 1


def test_command_import_of_a_broken_file_names_the_line_and_imports_nothing(db: None, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(WEB.replace("category: won", "category: closed"), encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command("process_template", "import", str(broken))

    assert "stages[9].category: 'closed' is not one of" in str(refused.value)
    assert Pipeline.objects.count() == 0


def test_orderflow_command_prints_the_problems_and_exits_non_zero(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\npipeline: [\n", encoding="utf-8")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ORDERFLOW_") and name != "DATABASE_URL"
    }
    env.update(ORDERFLOW_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="orderflow.settings")

    result = subprocess.run(
        [sys.executable, "-m", "orderflow", "process_template", "import", str(broken)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "line 3, column 1: not valid YAML" in result.stderr
    assert "nothing was imported" in result.stderr


# --- rules and reminders ---------------------------------------------------------------------------


def test_the_web_design_template_brings_its_rules_and_reminders(db: None) -> None:
    from orderflow.automation.models import ReminderSequence, Rule

    pipeline = import_process_template(WEB)

    rules = list(Rule.objects.filter(pipeline=pipeline).values_list("key", flat=True))
    assert rules[:4] == [
        "send-questionnaire",
        "questionnaire-answered",
        "invite-to-review-call",
        "review-call-booked",
    ]
    assert "paid" not in rules  # nothing records payments yet, so such a rule could never fire
    sequences = {sequence.key: sequence for sequence in ReminderSequence.objects.filter(pipeline=pipeline)}
    assert set(sequences) == {"questionnaire", "review-call", "design-approval"}
    assert [step["days"] for step in sequences["questionnaire"].steps] == [5, 10, 15, 20]
    assert (sequences["review-call"].start_kind, sequences["review-call"].stop_kinds) == (
        "booking.invited",
        ["booking.made"],
    )
    assert export_process_template(pipeline) == WEB


def test_importing_the_web_design_template_adds_the_form_and_the_call_its_rules_name(db: None) -> None:
    from orderflow.client_requests.models import FormTemplate
    from orderflow.scheduling.models import BookingType

    import_process_template(WEB)

    assert FormTemplate.objects.filter(name="Website questionnaire", is_template=True).count() == 1
    [call] = BookingType.objects.filter(name="Questionnaire review call")
    assert (call.duration_minutes, call.is_active) == (30, True)
    import_process_template(WEB, slug="website-2", number_prefix="WEBB")  # a second import adds no copies
    assert FormTemplate.objects.filter(name="Website questionnaire", is_template=True).count() == 1
    assert BookingType.objects.filter(name="Questionnaire review call").count() == 1


def test_site_launched_needs_the_approved_design_and_the_live_site_address(db: None) -> None:
    from orderflow.pipelines.services import StageGuardError, move_order, update_order
    from tests.factories import OrderFactory, UserFactory

    pipeline = import_process_template(WEB)
    manager = UserFactory(role="manager")
    order = OrderFactory(pipeline=pipeline, by=manager, stage="initial-design-in-production")
    launched = pipeline.stages.get(key="site-launched")

    with pytest.raises(StageGuardError):
        move_order(order, launched, by=manager)
    move_order(order, pipeline.stages.get(key="website-approved"), by=manager)
    with pytest.raises(StageGuardError, match="Live site"):
        move_order(order, launched, by=manager)
    update_order(order, by=manager, fields={"live-site": "https://bakery.pt"})
    move_order(order, launched, by=manager)

    order.refresh_from_db()
    assert order.stage == launched


def test_a_rule_naming_a_missing_stage_is_refused_with_its_line(db: None) -> None:
    text = WEB.replace("        stage: questionnaire-received\n", "        stage: questionnaire-got\n", 1)

    errors = _refusal(text)

    line = _line_of(text, "stage: questionnaire-got")
    assert len(errors) == 1
    assert errors[0].startswith(
        f"line {line}, rules[1].actions[0].stage: 'questionnaire-got' is not a stage of “Website project”"
    )


def test_a_reminder_step_without_english_and_a_rule_with_an_unknown_trigger_are_refused(db: None) -> None:
    text = WEB.replace("      kind: booking.cancelled\n", "      kind: booking.canceled\n").replace(
        "          en: Your questionnaire for {order_number} is waiting\n", ""
    )

    errors = _refusal(text)

    assert [error.split(":")[0] for error in errors] == [
        f"line {_line_of(text, 'booking.canceled')}, rules[4].trigger.kind",
        f"line {_line_of(text, 'O seu questionário para') - 1}, reminders[0].steps[0].subject",
    ]
    assert "'booking.canceled' is not one of order.created" in errors[0]
    assert "an English text (en) is needed" in errors[1]


def test_two_rules_with_the_same_key_are_refused(db: None) -> None:
    text = WEB.replace("  - key: questionnaire-answered\n", "  - key: send-questionnaire\n")

    errors = _refusal(text)

    first = _line_of(text, "- key: send-questionnaire")
    assert errors == [
        f"line {first + 12}, rules[1].key: rule key 'send-questionnaire' is used twice (first on line {first})"
    ]
