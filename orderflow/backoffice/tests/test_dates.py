# ruff: noqa: RUF001  (Russian text: Cyrillic letters that look Latin are meant)
"""The named date forms read as each language writes a date, with the translators' formats."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from orderflow.backoffice.templatetags.dates import day_month, day_month_year, long_day, weekday_day_month

FRIDAY = datetime.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("language", "long", "weekday", "short", "short_with_year"),
    [
        ("en", "Friday 4 December 2026", "Friday 4 December", "4 Dec", "4 Dec 2026"),
        ("pt", "sexta-feira, 4 de dezembro de 2026", "sexta-feira, 4 de dezembro", "4 dez", "4 dez 2026"),
        ("ru", "пятница, 4 декабря 2026 г.", "пятница, 4 декабря", "4 декабря", "4 декабря 2026"),
    ],
)
def test_dates_read_as_the_language_writes_them(language, long, weekday, short, short_with_year):
    with translation.override(language):
        assert long_day(FRIDAY) == long
        assert weekday_day_month(FRIDAY) == weekday
        assert day_month(FRIDAY) == short
        assert day_month_year(FRIDAY) == short_with_year


def test_a_datetime_is_named_in_the_current_time_zone_and_nothing_is_shown_for_no_date():
    late_in_utc = datetime.datetime(2026, 12, 4, 23, 30, tzinfo=datetime.UTC)
    template = Template(
        "{% load dates %}{{ when|long_day_time }}|{{ missing|long_day }}|{{ day|long_day_time }}"
    )
    with translation.override("en"), timezone.override("Asia/Tokyo"):
        shown = template.render(Context({"when": late_in_utc, "missing": None, "day": FRIDAY}))
    assert shown == "Saturday 5 December 2026, 08:30||"
