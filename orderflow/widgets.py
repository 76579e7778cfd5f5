"""Form inputs of the browser's own pickers: date and time fed the one value format they accept in every
language, and the searchable time zone field (`TimeZoneInput`, with its list of zones).

An `<input type="date">` takes only `2026-11-04`; Django renders a date in the active language's format
(`04.11.2026` in Russian), which the browser throws away, so the field showed empty and saving the form
cleared it. These widgets always render ISO values; parsing accepts ISO in every language.
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from django import forms


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


class TimeZoneInput(forms.TextInput):
    """A zone name typed with the suggestions of `components/_zone_picker.html` (its datalist and
    script): the one searchable zone picker of the client pages (message settings, booking)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        defaults = {"list": "time-zones", "autocomplete": "off", "spellcheck": "false"}
        super().__init__({**defaults, **(attrs or {})})


@functools.cache
def time_zone_names() -> list[str]:
    """Every zone a person may pick in `TimeZoneInput`'s suggestions, sorted ("Factory" and
    "localtime" are no one's zone)."""
    return sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})


def zone_named(typed: str) -> str:
    """The one zone whose full name or city matches `typed`, ignoring case, spaces and underscores
    ("tokyo" → "Asia/Tokyo", "new york" → "America/New_York"), or "" when none or several do; what
    zone_picker.js completes in the browser, for the same field sent without JavaScript."""
    wanted = " ".join(typed.replace("_", " ").split()).lower()
    if not wanted:
        return ""
    found = [
        zone
        for zone in time_zone_names()
        if (name := zone.replace("_", " ").lower()) == wanted or name.rsplit("/", 1)[-1] == wanted
    ]
    return found[0] if len(found) == 1 else ""
