"""Portuguese and Russian: the catalogues are complete and keep every placeholder, and wording that
depends on a number or on where a word stands reads right in each language."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import cast

import polib
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.pipelines import configure as pipeline_configure
from orderflow.pipelines.configure import FieldSettings, PipelineSettings, StageSettings
from orderflow.pipelines.models import Pipeline
from orderflow.pipelines.process_io import export_process_template
from orderflow.scheduling import configure as booking_configure
from tests.factories import ContactFactory, UserFactory
from tests.fixtures.services import running_in_ci

LOCALE = Path(__file__).resolve().parent.parent / "orderflow" / "locale"
LANGUAGES = ("pt", "ru")
PLURAL_FORMS = {"pt": 2, "ru": 4}
# %(name)s / %(count)d, a bare %s / %d, and {name} (str.format and the {{ upsell }} placeholder).
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdrf]|%[sdrf]|\{\{? ?[a-z_]+ ?\}?\}")


def _catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text.replace("%%", "")))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_and_keeps_its_placeholders(language: str) -> None:
    catalogue = _catalogue(language)
    problems: list[str] = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(index, "") for index in range(PLURAL_FORMS[language])]
            if not all(forms):
                problems.append(f"missing plural forms: {entry.msgid!r}")
            # A form may leave a number out ("Um ficheiro"), never bring in one the code does not pass.
            known = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural)
            problems += [
                f"unknown placeholder: {form!r}" for form in forms if not _placeholders(form) <= known
            ]
        elif not entry.msgstr:
            problems.append(f"untranslated: {entry.msgid!r}")
        elif _placeholders(entry.msgstr) != _placeholders(entry.msgid):
            problems.append(f"placeholders differ: {entry.msgid!r} → {entry.msgstr!r}")
    assert problems == []


def _extract_into_a_copy(tmp_path: Path, *, extra_template: str = "") -> Path:
    """Copy the package and run makemessages for Portuguese in the copy; returns the copy."""
    if shutil.which("xgettext") is None:
        if running_in_ci():
            pytest.fail("CI=true needs GNU gettext (xgettext) to check the catalogues")
        pytest.skip("GNU gettext (xgettext) is not installed")
    package = LOCALE.parent
    copy = tmp_path / "orderflow"
    shutil.copytree(
        package, copy, ignore=shutil.ignore_patterns("__pycache__", "vendor", "data", "*.mo", "*.pyc")
    )
    if extra_template:
        (copy / "templates" / "zz_probe.html").write_text(extra_template)
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "pt", "--no-obsolete", "--no-location"],
        cwd=copy,
        # Without settings, makemessages reads only the folder it is run in (the copy).
        env={name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return copy


@pytest.mark.integration
def test_the_catalogues_hold_every_string_the_code_marks(tmp_path: Path) -> None:
    """A string marked in code but missing from the catalogues would show in English to everyone:
    `makemessages` over a copy of the code must find nothing the catalogues lack."""
    copy = _extract_into_a_copy(tmp_path)
    found = {
        (entry.msgctxt, entry.msgid) for entry in polib.pofile(str(copy / "locale/pt/LC_MESSAGES/django.po"))
    }
    have = {(entry.msgctxt, entry.msgid) for entry in _catalogue("pt") if not entry.obsolete}
    missing = sorted(msgid for _context, msgid in found - have)
    assert missing == [], (
        "run makemessages -l pt -l ru --no-obsolete --no-location in orderflow/ and translate"
    )


@pytest.mark.integration
def test_the_catalogue_check_sees_a_string_nobody_added(tmp_path: Path) -> None:
    copy = _extract_into_a_copy(
        tmp_path, extra_template='{% load i18n %}{% translate "A sentence nobody translated" %}'
    )

    found = {entry.msgid for entry in polib.pofile(str(copy / "locale/pt/LC_MESSAGES/django.po"))}
    assert "A sentence nobody translated" in found
    assert "A sentence nobody translated" not in {entry.msgid for entry in _catalogue("pt")}


@pytest.fixture
def manager(client: Client) -> User:
    user = cast(User, UserFactory(role=Role.MANAGER))
    client.force_login(user)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "start", "end"),
    [("en", "From", "To"), ("pt", "De", "Até"), ("ru", "С", "По")],  # noqa: RUF001 (Cyrillic Es)
)
def test_the_report_period_reads_as_two_dates(
    client: Client, manager: User, web_pipeline: Pipeline, language: str, start: str, end: str
) -> None:
    """ "To" ends a period here; elsewhere it names a message's recipient ("Кому" in Russian)."""
    url = reverse("reports:pipeline", args=[web_pipeline.slug])

    page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert f'<label for="id_start">{start}</label>' in page
    assert f'<label for="id_end">{end}</label>' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "announcement"),
    [
        ("en", "Imported “Logo copy” with 2 stages and 1 field."),
        ("pt", "Funil “Logo copy” importado com 2 etapas e 1 campo."),
        ("ru", "Воронка «Logo copy» импортирована: 2 этапа и 1 поле."),
    ],
)
def test_an_imported_process_template_is_announced_with_the_right_plurals(
    client: Client, language: str, announcement: str
) -> None:
    client.force_login(cast(User, UserFactory(role=Role.ADMIN)))
    logo = pipeline_configure.create_pipeline(PipelineSettings(name="Logo", number_prefix="LOGO"), by=None)
    pipeline_configure.create_stage(logo, StageSettings(name="Brief"), by=None)
    pipeline_configure.create_stage(logo, StageSettings(name="Delivered", category="won"), by=None)
    pipeline_configure.create_field(logo, FieldSettings(label="Brand name"), by=None)
    upload = SimpleUploadedFile(
        "logo.yaml", export_process_template(logo).encode("utf-8"), content_type="application/yaml"
    )

    response = client.post(
        reverse("backoffice:settings-pipeline-import"),
        {"file": upload, "name": "Logo copy", "slug": "logo-copy", "number_prefix": "LOGOC"},
        HTTP_ACCEPT_LANGUAGE=language,
        follow=True,
    )

    assert announcement in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "days", "bookable"),
    [
        ("en", 1, "From 60 min to 1 day ahead"),
        ("en", 21, "From 60 min to 21 days ahead"),
        ("pt", 1, "De 60 min a 1 dia de antecedência"),
        ("ru", 1, "От 60 мин до 1 дня вперёд"),
        ("ru", 3, "От 60 мин до 3 дней вперёд"),
        ("ru", 21, "От 60 мин до 21 дня вперёд"),
    ],
)
def test_the_booking_types_list_says_how_far_ahead_in_proper_plural(
    client: Client, manager: User, language: str, days: int, bookable: str
) -> None:
    booking_configure.create_booking_type(
        booking_configure.BookingTypeSettings(name="Review call", minimum_notice_minutes=60, days_ahead=days),
        by=manager,
    )

    page = client.get(
        reverse("scheduling:settings-booking-types"), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert bookable in page


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "label"), [("en", "Name"), ("pt", "Nome"), ("ru", "Имя или название")])
def test_a_contacts_name_is_not_called_a_title_in_russian(
    client: Client, manager: User, language: str, label: str
) -> None:
    """Pipelines and kinds of call have a "Название"; a contact may be a person, who has an "Имя"."""
    ContactFactory(name="Olga Petrova")
    form = client.get(reverse("backoffice:contact-create"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    listing = client.get(reverse("backoffice:contact-list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert f'<label for="id_name">{label} <span aria-hidden="true">*</span></label>' in form
    assert f'<th scope="col">{label}</th>' in listing


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "label"), [("en", "Choose…"), ("pt", "Escolha…"), ("ru", "Выберите…")])
def test_an_empty_choice_reads_in_the_pages_language(
    client: Client, manager: User, language: str, label: str
) -> None:
    """Django 6.1's "- Select an option -" is not in its Russian or Portuguese catalogue."""
    page = client.get(reverse("scheduling:availability"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert f'<option value="" selected>{label}</option>' in page
    assert "Select an option" not in page
