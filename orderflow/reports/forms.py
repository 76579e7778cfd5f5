"""The reports' period: two dates in the viewer's calendar, or a preset such as the last 30 days."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orderflow.reports.selectors import Period
from orderflow.widgets import DateInput

# The longest period one report covers: enough for "this year and last", and a bound on the work.
MAX_DAYS = 731
PRESETS = (7, 30, 90, 365)
DEFAULT_DAYS = 30


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=pgettext_lazy("start of a period", "From"),
        required=False,
        widget=DateInput(),
    )
    end = forms.DateField(
        label=pgettext_lazy("end of a period", "To"),
        required=False,
        widget=DateInput(),
    )

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or self.today
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The period starts after it ends; swap the dates."))
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                _("A report covers at most %(days)d days; shorten the period.") % {"days": MAX_DAYS}
            )
        data["start"], data["end"] = start, end
        return data

    def period(self) -> Period:
        """The chosen period (call after is_valid()), or the default last 30 days when it was wrong."""
        data = getattr(self, "cleaned_data", {}) if not self.errors else {}
        end = data.get("end") or self.today
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        return Period.of_days(start, end, zone=timezone.get_current_timezone())
