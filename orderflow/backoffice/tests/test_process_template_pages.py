"""Settings → Pipelines: "Export as YAML" downloads a process template; "Import a process template"
creates a pipeline from an uploaded file, or refuses the whole file listing each problem's line."""

from __future__ import annotations

from typing import cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.backoffice.pipeline_forms import TEMPLATE_MAX_BYTES
from orderflow.pipelines.models import FieldDefinition, Pipeline, Stage
from orderflow.pipelines.process_io import SHIPPED_DIR, export_process_template, import_process_template
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ACADEMIC = (SHIPPED_DIR / "academic-writing.yaml").read_text(encoding="utf-8")
IMPORT_URL = reverse("backoffice:settings-pipeline-import")


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(cast(User, UserFactory(role=Role.ADMIN)))
    return client


def _upload(text: str | bytes, name: str = "process.yaml") -> SimpleUploadedFile:
    content = text.encode("utf-8") if isinstance(text, str) else text
    return SimpleUploadedFile(name, content, content_type="application/yaml")


def _counts() -> tuple[int, int, int]:
    return Pipeline.objects.count(), Stage.objects.count(), FieldDefinition.objects.count()


def test_export_downloads_the_pipeline_as_its_template(admin_client: Client) -> None:
    pipeline = import_process_template(ACADEMIC)

    response = admin_client.get(reverse("backoffice:settings-pipeline-export", args=[pipeline.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="academic-writing.yaml"'
    assert response.content == ACADEMIC.encode("utf-8")
    listing = admin_client.get(reverse("backoffice:settings-pipeline-list")).content.decode()
    assert reverse("backoffice:settings-pipeline-export", args=[pipeline.pk]) in listing


def test_an_uploaded_template_becomes_a_pipeline_and_exports_the_same(admin_client: Client) -> None:
    response = admin_client.post(IMPORT_URL, {"file": _upload(ACADEMIC)})

    pipeline = Pipeline.objects.get(slug="academic-writing")
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:settings-stages", args=[pipeline.pk])
    assert export_process_template(pipeline) == ACADEMIC
    page = admin_client.get(response["Location"]).content.decode()
    assert "Imported “Academic writing” with 10 stages and 9 fields." in page


def test_a_template_imported_again_under_new_names_sits_next_to_the_first(admin_client: Client) -> None:
    import_process_template(ACADEMIC)

    taken = admin_client.post(IMPORT_URL, {"file": _upload(ACADEMIC)})
    assert taken.status_code == 422
    assert "is already the slug of the pipeline “Academic writing”" in taken.content.decode()
    assert Pipeline.objects.count() == 1

    copied = admin_client.post(
        IMPORT_URL,
        {"file": _upload(ACADEMIC), "name": "Essays", "slug": "Essays", "number_prefix": "ess"},
    )
    assert copied.status_code == 302
    copy = Pipeline.objects.get(slug="essays")
    assert (copy.name, copy.number_prefix, copy.stages.count()) == ("Essays", "ESS", 10)


def test_a_taken_name_on_the_page_points_to_the_form_not_to_command_line_options(
    admin_client: Client,
) -> None:
    import_process_template(ACADEMIC)

    from_file = admin_client.post(IMPORT_URL, {"file": _upload(ACADEMIC)}).content.decode()
    given_here = admin_client.post(
        IMPORT_URL, {"file": _upload(ACADEMIC), "slug": "academic-writing", "number_prefix": "NEW"}
    ).content.decode()

    assert (
        "&#x27;academic-writing&#x27; is already the slug of the pipeline “Academic writing”; "
        "fill in “Short name” below to import it under another one"
    ) in from_file
    assert (
        "&#x27;PAPER&#x27; is already the number prefix of the pipeline “Academic writing”; "
        "fill in “Number prefix” below to import it under another one"
    ) in from_file
    assert (
        "&#x27;academic-writing&#x27; (given for this import) is already the slug of the pipeline "
        "“Academic writing”; fill in “Short name” below"
    ) in given_here
    assert "number prefix of the pipeline" not in given_here
    for page in (from_file, given_here):
        assert "--slug" not in page
        assert "--prefix" not in page
    assert Pipeline.objects.count() == 1


@pytest.mark.parametrize("language", ["pt", "ru"])
def test_import_problems_are_shown_in_the_admins_language(admin_client: Client, language: str) -> None:
    """Waits for the Portuguese and Russian translations of the import messages."""
    import_process_template(ACADEMIC)
    broken = ACADEMIC.replace("category: won", "category: finished", 1)

    page = admin_client.post(
        IMPORT_URL, {"file": _upload(broken)}, HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert f'lang="{language}"' in page
    assert "stages[6].category" in page  # paths and values are the file's own
    for english in ("is already the slug", "is not one of", "fill in “Short name”"):
        assert english not in page


def test_a_broken_file_is_refused_whole_with_each_problem_on_its_line(admin_client: Client) -> None:
    broken = ACADEMIC.replace("category: won", "category: finished", 1).replace(
        "  - key: pages\n    label: Pages\n", "  - key: pages\n    lable: Pages\n", 1
    )
    before = _counts()

    response = admin_client.post(IMPORT_URL, {"file": _upload(broken)})

    assert response.status_code == 422
    assert _counts() == before
    page = response.content.decode()
    assert "The file has 3 problems; nothing was imported." in page
    category_line = broken.splitlines().index("    category: finished") + 1
    label_line = broken.splitlines().index("    lable: Pages") + 1
    assert f"line {category_line}, stages[6].category" in page
    assert f"line {label_line - 1}, fields[3].label: missing" in page
    assert f"line {label_line}, fields[3].lable: unknown key" in page


def test_a_file_that_is_not_yaml_names_the_line(admin_client: Client) -> None:
    response = admin_client.post(IMPORT_URL, {"file": _upload("version: 1\npipeline: [unclosed\n")})
    assert response.status_code == 422
    assert "not valid YAML" in response.content.decode()
    assert "line 3" in response.content.decode()
    assert Pipeline.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00v\x00e\x00r", "not a YAML text file"),
        (b"#" * (TEMPLATE_MAX_BYTES + 1), "too large"),
    ],
    ids=["not-utf8", "too-large"],
)
def test_a_file_that_cannot_be_a_template_is_refused_before_reading_it(
    admin_client: Client, content: bytes, message: str
) -> None:
    response = admin_client.post(IMPORT_URL, {"file": _upload(content)})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Pipeline.objects.count() == 0


def test_importing_without_a_file_asks_for_one(admin_client: Client) -> None:
    response = admin_client.post(IMPORT_URL, {})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.CONTRACTOR])
def test_only_admins_export_and_import(client: Client, role: str) -> None:
    pipeline = import_process_template(ACADEMIC)
    client.force_login(cast(User, UserFactory(role=role)))

    assert client.get(reverse("backoffice:settings-pipeline-export", args=[pipeline.pk])).status_code == 403
    assert client.get(IMPORT_URL).status_code == 403
    copy = ACADEMIC.replace("slug: academic-writing", "slug: other").replace("PAPER", "OTHER")
    assert client.post(IMPORT_URL, {"file": _upload(copy)}).status_code == 403
    assert Pipeline.objects.count() == 1
