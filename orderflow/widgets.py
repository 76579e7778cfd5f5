"""The browser's own date and time pickers, fed the one value format they accept in every language.

An `<input type="date">` takes only `2026-11-04`; Django renders a date in the active language's format
(`04.11.2026` in Russian), which the browser throws away, so the field showed empty and saving the form
cleared it. These widgets always render ISO values; parsing accepts ISO in every language.
"""

from __future__ import annotations

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
