"""A form's JSON definition: question types, checking a definition, cleaning and checking answers."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from orderflow.accounts.models import LANGUAGE_NAMES, Language, validate_phone
from orderflow.errors import DomainError
from orderflow.widgets import zone_named


class QuestionType(models.TextChoices):
    SHORT_TEXT = "short_text", gettext_lazy("Short text")
    LONG_TEXT = "long_text", gettext_lazy("Long text")
    NUMBER = "number", gettext_lazy("Number")
    EMAIL = "email", gettext_lazy("E-mail")
    PHONE = "phone", gettext_lazy("Phone")
    DATE = "date", gettext_lazy("Date")
    SINGLE_CHOICE = "single_choice", gettext_lazy("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", gettext_lazy("Multiple choice")
    DROPDOWN = "dropdown", gettext_lazy("Dropdown")
    YES_NO = "yes_no", gettext_lazy("Yes / no")
    RATING = "rating", gettext_lazy("Rating scale")
    FILE = "file", gettext_lazy("File upload")
    INFO = "info", gettext_lazy("Heading and text")


CHOICE_TYPES = {QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.DROPDOWN}
TEXT_TYPES = {QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT, QuestionType.EMAIL, QuestionType.PHONE}
# Types whose single value can decide a move or a show-if condition.
DECIDING_TYPES = {QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN, QuestionType.YES_NO}

# File kinds a file question may accept, recognised by their first bytes (never by the name alone).
FILE_KINDS: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", "PDF"),
    "png": ("image/png", "PNG"),
    "jpeg": ("image/jpeg", "JPEG"),
    "gif": ("image/gif", "GIF"),
    "webp": ("image/webp", "WebP"),
    "zip": ("application/zip", "ZIP / Office document"),
    "text": ("text/plain", "Plain text"),
}
DEFAULT_FILE_KINDS = ["pdf", "png", "jpeg"]
DEFAULT_MAX_FILE_MB = 10
MAX_FILE_MB = 50
_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,25}$")


class SavesTo(models.TextChoices):
    """The client setting a question's answer fills (when the order's own client submits)."""

    CHANNEL = "channel", gettext_lazy("preferred channel")
    PHONE = "phone", gettext_lazy("phone number")
    LANGUAGE = "language", gettext_lazy("language")
    TIME_ZONE = "time_zone", gettext_lazy("time zone")
    WINDOW_START = "window_start", gettext_lazy("contact hours: from")
    WINDOW_END = "window_end", gettext_lazy("contact hours: until")
    NO_OFFERS = "no_offers", gettext_lazy("“no offers”")


# The question types that can fill each setting.
SAVES_TO_TYPES: dict[str, set[str]] = {
    SavesTo.CHANNEL: {QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN},
    SavesTo.PHONE: {QuestionType.PHONE},
    SavesTo.LANGUAGE: {QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN},
    SavesTo.TIME_ZONE: {QuestionType.SHORT_TEXT},
    SavesTo.WINDOW_START: {QuestionType.SHORT_TEXT},
    SavesTo.WINDOW_END: {QuestionType.SHORT_TEXT},
    SavesTo.NO_OFFERS: {QuestionType.YES_NO},
}
# Channels a client may prefer (the portal inbox no client can read yet).
PREFERABLE_CHANNELS = ("email", "sms", "messenger", "call")
_TIME = re.compile(r"^([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])$")


def _channel_words() -> dict[str, str]:
    """A channel choice's words (its value or English name, any case) → the channel."""
    from orderflow.notifications.models import Channel

    with override("en"):
        named = {str(label).casefold(): value for value, label in Channel.choices}
    return {
        word: value
        for word, value in {**named, **{value: value for value in Channel.values}}.items()
        if value in PREFERABLE_CHANNELS
    }


def setting_value(saves_to: str, choice: str) -> str | None:
    """The channel or language code a choice of a channel or language question stands for."""
    word = choice.strip().casefold()
    if saves_to == SavesTo.CHANNEL:
        return _channel_words().get(word)
    if saves_to == SavesTo.LANGUAGE:
        names = {name.casefold(): code for code, name in LANGUAGE_NAMES.items()}
        return word if word in Language.values else names.get(word)
    return None


def channel_choice_label(channel: str) -> str:
    """The English name a channel question lists a channel under (the builder fills these in)."""
    from orderflow.notifications.models import Channel

    with override("en"):
        return str(Channel(channel).label)


def parse_time(text: str) -> datetime.time | None:
    """ "09:00", "9:00", "9.30" or "21h00" as a time; None when it is not one."""
    match = _TIME.match(text.strip())
    return datetime.time(int(match[1]), int(match[2])) if match else None


class FormDefinitionError(DomainError):
    code = "form_invalid"


class AnswerError(DomainError):
    """An answer that does not fit its question; the message is for the person answering."""

    code = "answer_invalid"


def sniff_file_kind(head: bytes) -> str | None:
    """The FILE_KINDS key that `head` (the file's first bytes) belongs to, or None when unknown."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            # A multi-byte character may be cut at the end of the sample.
            try:
                head[:-3].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return "text"
    return None


def _int_or_none(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FormDefinitionError(_("%(name)s must be a whole number.") % {"name": name}) from None


def _number_or_none(value: Any, name: str) -> float | int | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise FormDefinitionError(_("%(name)s must be a number.") % {"name": name}) from None
    return int(number) if number == number.to_integral_value() else float(number)


def clean_question(raw: dict[str, Any], *, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """One question checked and normalised; `earlier` are the questions before it (for show-if)."""
    kind = raw.get("type")
    if kind not in QuestionType.values:
        raise FormDefinitionError(_("Choose a question type."))
    label = str(raw.get("label") or "").strip()
    if not label:
        raise FormDefinitionError(_("Give the question a label."))
    key = str(raw.get("key") or "").strip() or slugify(label)[:50] or "question"
    question: dict[str, Any] = {"key": key, "type": kind, "label": label[:300]}
    help_text = str(raw.get("help") or "").strip()
    if help_text:
        question["help"] = help_text[:1000]
    if kind == QuestionType.INFO:
        if translations := _clean_translations(raw.get("translations"), question):
            question["translations"] = translations
        return question
    question["required"] = bool(raw.get("required"))
    if kind in CHOICE_TYPES:
        choices = [str(choice).strip() for choice in raw.get("choices") or [] if str(choice).strip()]
        if len(choices) < 2:
            raise FormDefinitionError(_("“%(label)s” needs at least two choices.") % {"label": label})
        if len(set(choices)) != len(choices):
            raise FormDefinitionError(_("“%(label)s” lists a choice twice.") % {"label": label})
        question["choices"] = choices
    if kind in TEXT_TYPES:
        for name in ("min_length", "max_length"):
            if (value := _int_or_none(raw.get(name), name)) is not None:
                question[name] = max(0, value)
        pattern = str(raw.get("pattern") or "")
        if pattern:
            try:
                re.compile(pattern)
            except re.error:
                raise FormDefinitionError(
                    _("The pattern of “%(label)s” is not a valid regular expression.") % {"label": label}
                ) from None
            question["pattern"] = pattern
    if kind == QuestionType.NUMBER:
        for name in ("min", "max"):
            if (limit := _number_or_none(raw.get(name), name)) is not None:
                question[name] = limit
    if kind == QuestionType.RATING:
        question["scale"] = min(10, max(2, _int_or_none(raw.get("scale"), "scale") or 5))
    if kind == QuestionType.FILE:
        question["max_files"] = min(20, max(1, _int_or_none(raw.get("max_files"), "max_files") or 1))
        question["max_size_mb"] = min(
            MAX_FILE_MB, max(1, _int_or_none(raw.get("max_size_mb"), "max_size_mb") or DEFAULT_MAX_FILE_MB)
        )
        kinds = [kind_ for kind_ in raw.get("file_types") or DEFAULT_FILE_KINDS if kind_ in FILE_KINDS]
        question["file_types"] = kinds or list(DEFAULT_FILE_KINDS)
    if saves_to := str(raw.get("saves_to") or ""):
        question["saves_to"] = _clean_saves_to(saves_to, question)
    if translations := _clean_translations(raw.get("translations"), question):
        question["translations"] = translations
    show_if = raw.get("show_if") or {}
    if show_if.get("question"):
        source = next((q for q in earlier if q["key"] == show_if["question"]), None)
        if source is None:
            raise FormDefinitionError(
                _("“%(label)s” can only depend on a question above it.") % {"label": label}
            )
        question["show_if"] = {"question": source["key"], "equals": str(show_if.get("equals") or "")}
    return question


def _clean_saves_to(saves_to: str, question: dict[str, Any]) -> str:
    """The client setting a question fills, when its type fits (channel and language choices must each
    name one: "E-mail", "SMS", "Phone call"…; "English", "Português", "Русский" or en/pt/ru)."""
    label = question["label"]
    if saves_to not in SavesTo.values:
        raise FormDefinitionError(_("“%(label)s” saves to an unknown client setting.") % {"label": label})
    if question["type"] not in SAVES_TO_TYPES[saves_to]:
        raise FormDefinitionError(
            _("“%(label)s” cannot fill the client's %(setting)s: its type does not fit.")
            % {"label": label, "setting": SavesTo(saves_to).label}
        )
    if saves_to in {SavesTo.CHANNEL, SavesTo.LANGUAGE}:
        unknown = [choice for choice in question["choices"] if setting_value(saves_to, choice) is None]
        if unknown:
            raise FormDefinitionError(
                _("“%(label)s” lists “%(choice)s”, which is not a %(setting)s.")
                % {"label": label, "choice": unknown[0], "setting": SavesTo(saves_to).label}
            )
    return saves_to


def _translation_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _clean_translations(raw: Any, question: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A question's wording in other languages: {language: {"label", "help", "choices"}}.

    Only what a recipient reads is translated; choices are translated by position and must match the
    question's choices in number (the stored answer is always the choice itself, never its translation,
    so moves and show-if conditions work in every language). Anything malformed is dropped.
    """
    if not isinstance(raw, dict):
        return {}
    cleaned: dict[str, dict[str, Any]] = {}
    for language in _translation_languages():
        wording = raw.get(language)
        if not isinstance(wording, dict):
            continue
        item: dict[str, Any] = {}
        if label := str(wording.get("label") or "").strip():
            item["label"] = label[:300]
        if (help_text := str(wording.get("help") or "").strip()) and question.get("help"):
            item["help"] = help_text[:1000]
        choices = wording.get("choices")
        if (
            isinstance(choices, list)
            and question.get("choices")
            and len(choices) == len(question["choices"])
            and all(str(choice).strip() for choice in choices)
        ):
            item["choices"] = [str(choice).strip()[:200] for choice in choices]
        if item:
            cleaned[language] = item
    return cleaned


def _clean_title(raw: dict[str, Any]) -> dict[str, Any]:
    """The form's own title with its translations, used for a request sent under that very title."""
    title = str(raw.get("title") or "").strip()[:200]
    if not title:
        return {}
    found = raw.get("translations")
    translations: dict[str, Any] = found if isinstance(found, dict) else {}
    titles = {
        language: {"title": str(wording["title"]).strip()[:200]}
        for language in _translation_languages()
        if isinstance(wording := translations.get(language), dict) and str(wording.get("title") or "").strip()
    }
    return {"title": title, **({"translations": titles} if titles else {})}


def clean_definition(raw: dict[str, Any]) -> dict[str, Any]:
    """A whole definition checked: unique keys, show-if pointing upwards, moves naming real questions."""
    questions: list[dict[str, Any]] = []
    keys: set[str] = set()
    for raw_question in raw.get("questions") or []:
        question = clean_question(raw_question, earlier=questions)
        base, n = question["key"], 2
        while question["key"] in keys:
            question["key"] = f"{base}-{n}"
            n += 1
        keys.add(question["key"])
        if (saves_to := question.get("saves_to")) and any(q.get("saves_to") == saves_to for q in questions):
            raise FormDefinitionError(
                _("Only one question can fill the client's %(setting)s.")
                % {"setting": SavesTo(saves_to).label}
            )
        questions.append(question)
    moves_raw = raw.get("moves") or {}
    moves: dict[str, Any] = {}
    if moves_raw.get("on_submit"):
        moves["on_submit"] = slugify(str(moves_raw["on_submit"]))
    if moves_raw.get("question"):
        deciding = next((q for q in questions if q["key"] == moves_raw["question"]), None)
        if deciding is None or deciding["type"] not in DECIDING_TYPES:
            raise FormDefinitionError(
                _("A move can depend only on a single-choice, dropdown or yes/no question.")
            )
        values = {
            str(k): slugify(str(v)) for k, v in (moves_raw.get("values") or {}).items() if str(v).strip()
        }
        moves["question"] = deciding["key"]
        moves["values"] = values
    return {**_clean_title(raw), "questions": questions, "moves": moves}


def localize_question(question: dict[str, Any], language: str) -> dict[str, Any]:
    """The question as a recipient speaking `language` reads it (the form's own wording when untranslated).

    Choices keep their stored values; `choice_labels` maps each value to the words shown for it.
    """
    wording = (question.get("translations") or {}).get(language) or {}
    localized = {key: value for key, value in question.items() if key != "translations"}
    if "label" in wording:
        localized["label"] = wording["label"]
    if "help" in wording:
        localized["help"] = wording["help"]
    if question.get("choices"):
        labels = wording.get("choices") or question["choices"]
        localized["choice_labels"] = dict(zip(question["choices"], labels, strict=True))
    return localized


def localize_title(title: str, definition: dict[str, Any], language: str) -> str:
    """A request's title for a recipient: translated when the request kept the form's own title."""
    if title != definition.get("title"):
        return title
    return str(((definition.get("translations") or {}).get(language) or {}).get("title") or title)


def translated_languages(definition: dict[str, Any]) -> list[str]:
    """The languages a definition has any wording for besides its own, in the order of LANGUAGES."""
    found = set((definition.get("translations") or {}).keys())
    for question in definition.get("questions") or []:
        found.update((question.get("translations") or {}).keys())
    return [code for code in _translation_languages() if code in found]


def is_visible(question: dict[str, Any], answers: dict[str, Any]) -> bool:
    """Whether a question is asked, given the answers so far (show-if compares the earlier answer as text)."""
    condition = question.get("show_if")
    if not condition:
        return True
    value = answers.get(condition["question"])
    if isinstance(value, list):
        return condition["equals"] in [str(item) for item in value]
    return value is not None and str(value) == condition["equals"]


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_answer(question: dict[str, Any], raw: str | list[str]) -> Any:
    """The value to store for `raw` (what the form posted), or AnswerError saying what is wrong.

    Empty answers are stored as None; whether one is allowed is checked on submit, not while typing.
    """
    kind = question["type"]
    label = question["label"]
    if kind == QuestionType.MULTIPLE_CHOICE:
        items = raw if isinstance(raw, list) else [raw]
        chosen = [item for item in items if item]
        unknown = [item for item in chosen if item not in question["choices"]]
        if unknown:
            raise AnswerError(_("Choose from the options given."))
        return [choice for choice in question["choices"] if choice in chosen] or None
    text = (raw[-1] if raw else "") if isinstance(raw, list) else raw
    text = text.strip()
    if text == "":
        return None
    if kind in TEXT_TYPES:
        if kind == QuestionType.EMAIL:
            try:
                validate_email(text)
            except ValidationError:
                raise AnswerError(_("Enter an e-mail address like name@example.com.")) from None
        if kind == QuestionType.PHONE and not _PHONE.match(text):
            raise AnswerError(_("Enter a phone number with digits, like +351 912 345 678."))
        if "min_length" in question and len(text) < question["min_length"]:
            raise AnswerError(_("Write at least %(count)s characters.") % {"count": question["min_length"]})
        if "max_length" in question and len(text) > question["max_length"]:
            raise AnswerError(_("Write at most %(count)s characters.") % {"count": question["max_length"]})
        if question.get("pattern") and not re.fullmatch(question["pattern"], text):
            raise AnswerError(_("This doesn't have the expected format."))
        if saves_to := question.get("saves_to"):
            text = _clean_setting_text(saves_to, text)
        limit = 10_000 if kind == QuestionType.LONG_TEXT else 1_000
        if len(text) > limit:
            raise AnswerError(_("Write at most %(count)s characters.") % {"count": limit})
        return text
    if kind == QuestionType.NUMBER:
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise AnswerError(_("Enter a number.")) from None
        if not number.is_finite():
            raise AnswerError(_("Enter a number."))
        if "min" in question and number < Decimal(str(question["min"])):
            raise AnswerError(_("Enter %(min)s or more.") % {"min": question["min"]})
        if "max" in question and number > Decimal(str(question["max"])):
            raise AnswerError(_("Enter %(max)s or less.") % {"max": question["max"]})
        return str(number)
    if kind == QuestionType.DATE:
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            raise AnswerError(_("Enter a date.")) from None
    if kind in {QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN}:
        if text not in question["choices"]:
            raise AnswerError(_("Choose from the options given."))
        return text
    if kind == QuestionType.YES_NO:
        if text not in {"yes", "no"}:
            raise AnswerError(_("Choose yes or no."))
        return text
    if kind == QuestionType.RATING:
        try:
            rating = int(text)
        except ValueError:
            raise AnswerError(_("Choose a number on the scale.")) from None
        if not 1 <= rating <= question.get("scale", 5):
            raise AnswerError(_("Choose a number on the scale."))
        return rating
    raise AnswerError(_("This question takes no typed answer.") + f" ({label})")


def _clean_setting_text(saves_to: str, text: str) -> str:
    """A text answer that fills a client setting, in the form the setting takes."""
    if saves_to == SavesTo.PHONE:
        try:
            validate_phone(text)
        except ValidationError as error:
            raise AnswerError(error.messages[0], code="phone_invalid") from None
    if saves_to == SavesTo.TIME_ZONE:
        zone = text if text in zoneinfo.available_timezones() else zone_named(text)
        if not zone:
            raise AnswerError(_("Enter a time zone or a city, like Europe/Lisbon or Lisbon."))
        return zone
    if saves_to in {SavesTo.WINDOW_START, SavesTo.WINDOW_END}:
        time = parse_time(text)
        if time is None:
            raise AnswerError(_("Enter a time of day, like 09:00."))
        return time.strftime("%H:%M")
    return text


def missing_answers(
    questions: list[dict[str, Any]], answers: dict[str, Any], file_counts: dict[str, int]
) -> dict[str, str]:
    """Errors by question key for required visible questions left empty (checked when submitting)."""
    errors: dict[str, str] = {}
    for question in questions:
        if question["type"] == QuestionType.INFO or not question.get("required"):
            continue
        if not is_visible(question, answers):
            continue
        if question["type"] == QuestionType.FILE:
            if not file_counts.get(question["key"]):
                errors[question["key"]] = _("Add a file.")
        elif is_blank(answers.get(question["key"])):
            errors[question["key"]] = _("Please answer this question.")
    return errors


def display_answer(question: dict[str, Any], value: Any) -> str:
    """An answer as plain text for people (staff card, CSV, PDF, e-mail). Never HTML: escape on output."""
    if is_blank(value):
        return ""
    labels = question.get("choice_labels") or {}
    if question["type"] == QuestionType.MULTIPLE_CHOICE and isinstance(value, list):
        return ", ".join(str(labels.get(item, item)) for item in value)
    if question["type"] in CHOICE_TYPES:
        return str(labels.get(value, value))
    if question["type"] == QuestionType.YES_NO:
        return str(_("Yes") if value == "yes" else _("No"))
    if question["type"] == QuestionType.RATING:
        return f"{value} / {question.get('scale', 5)}"
    return str(value)
