# ruff: noqa: RUF002  (Russian text: Cyrillic letters that look Latin are meant)
"""Template filters that name a date as each language writes it ("Friday 4 December 2026",
"sexta-feira, 4 de dezembro de 2026", "пятница, 4 декабря 2026 г.").

Every page and message that shows a date to a person uses one of these few named forms instead of
a hard-coded format string. Each form's Django format string is translatable (message context
"date format"), so a language chooses its own word order, prepositions and month case; a second
translatable word says whether the language writes weekday and month names in lower case, which
Django's own month and weekday names (capitalised in Portuguese and Russian) cannot express.
Datetimes are shown in the current time zone, as Django's `date` filter shows them.
"""

from __future__ import annotations

import datetime

from django import template
from django.utils.dateformat import DateFormat
from django.utils.translation import pgettext

register = template.Library()

LOWER_CASE = "lower-case"


class _LowerCaseNames(DateFormat):
    """Django's formatter with weekday and month names in lower case ("sexta-feira", "dezembro")."""

    def D(self) -> str:
        return str(super().D()).lower()

    def E(self) -> str:
        return str(super().E()).lower()

    def F(self) -> str:
        return str(super().F()).lower()

    def M(self) -> str:
        return str(super().M()).lower()

    def N(self) -> str:
        return str(super().N()).lower()

    def l(self) -> str:  # noqa: E743 (Django's format character)
        return str(super().l()).lower()


def _names_in_lower_case() -> bool:
    # Translators: write "lower-case" (in English, exactly) if your language writes weekday and month
    # names in lower case inside a sentence (Portuguese "sexta-feira", "dezembro"; Russian "пятница");
    # otherwise copy "capitalised".
    return pgettext("date format", "capitalised").strip() == LOWER_CASE


def _format(value: datetime.date | datetime.datetime | None, format_string: str) -> str:
    if not isinstance(value, datetime.date):
        return ""
    formatter = _LowerCaseNames if _names_in_lower_case() else DateFormat
    try:
        return formatter(value).format(format_string)
    except TypeError:  # a time of day asked of a date: nothing to show, as Django's `date` filter
        return ""


@register.filter(expects_localtime=True)
def long_day(value: datetime.date | datetime.datetime | None) -> str:
    """Weekday, day, month and year: "Friday 4 December 2026"."""
    # Translators: a date with its weekday and year, as Django's "date" filter format
    # (https://docs.djangoproject.com/en/stable/ref/templates/builtins/#date); use \ before a
    # letter that is to be shown as it is. English "Friday 4 December 2026".
    return _format(value, pgettext("date format", "l j F Y"))


@register.filter(expects_localtime=True)
def long_day_time(value: datetime.date | datetime.datetime | None) -> str:
    """Weekday, day, month, year and time of day: "Friday 4 December 2026, 10:00"."""
    # Translators: a date with its weekday, year and 24-hour time, as Django's "date" filter format.
    # English "Friday 4 December 2026, 10:00".
    return _format(value, pgettext("date format", "l j F Y, H:i"))


@register.filter(expects_localtime=True)
def weekday_day_month(value: datetime.date | datetime.datetime | None) -> str:
    """Weekday, day and month, for dates in the coming weeks: "Friday 4 December"."""
    # Translators: a date with its weekday but no year, as Django's "date" filter format.
    # English "Friday 4 December".
    return _format(value, pgettext("date format", "l j F"))


@register.filter(expects_localtime=True)
def day_month(value: datetime.date | datetime.datetime | None) -> str:
    """Day and abbreviated month, where space is short: "4 Dec"."""
    # Translators: a short date without year, as Django's "date" filter format. English "4 Dec".
    return _format(value, pgettext("date format", "j M"))


@register.filter(expects_localtime=True)
def day_month_year(value: datetime.date | datetime.datetime | None) -> str:
    """Day, abbreviated month and year, where space is short: "4 Dec 2026"."""
    # Translators: a short date with its year, as Django's "date" filter format. English "4 Dec 2026".
    return _format(value, pgettext("date format", "j M Y"))
