"""Forms of scheduling pages: they parse input; the services decide."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orderflow.pipelines.models import Order
from orderflow.scheduling.models import BookingType, DateOverride, TimeOff, WeeklyHours


class SlotChoiceForm(forms.Form):
    """The start the client picked (an ISO instant with offset) and the zone they viewed it in."""

    start = forms.CharField(max_length=40)
    tz = forms.CharField(max_length=64, required=False)

    def clean_start(self) -> datetime.datetime:
        value = self.cleaned_data["start"].strip().replace(" ", "+")
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(
                _("Please pick one of the times shown."), code="start_invalid"
            ) from None
        if parsed.tzinfo is None:
            raise forms.ValidationError(_("Please pick one of the times shown."), code="start_naive")
        return parsed


class InviteForm(forms.Form):
    """Staff: send an order's client a link to book a call."""

    order = forms.CharField(label=_("Order number"), max_length=20, help_text=_("For example WEB-00042."))
    booking_type = forms.ModelChoiceField(
        label=_("Kind of call"), queryset=BookingType.objects.filter(is_active=True), empty_label=None
    )

    def clean_order(self) -> Order:
        reference = self.cleaned_data["order"].strip().upper()
        prefix, _dash, number = reference.rpartition("-")
        order = (
            Order.objects.select_related("client", "owner", "pipeline")
            .filter(pipeline__number_prefix=prefix, number=int(number) if number.isdigit() else -1)
            .first()
        )
        if order is None:
            raise forms.ValidationError(
                _("No order has the number %(reference)s."), params={"reference": reference}
            )
        return order


class WeeklyHoursForm(forms.ModelForm):
    class Meta:
        model = WeeklyHours
        fields = ["weekday", "starts", "ends"]
        widgets = {
            "starts": forms.TimeInput(attrs={"type": "time"}),
            "ends": forms.TimeInput(attrs={"type": "time"}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts") and data.get("ends") and data["starts"] >= data["ends"]:
            raise forms.ValidationError(_("The end must be after the start."))
        return data


class DateOverrideForm(forms.ModelForm):
    class Meta:
        model = DateOverride
        fields = ["date", "starts", "ends"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "starts": forms.TimeInput(attrs={"type": "time"}),
            "ends": forms.TimeInput(attrs={"type": "time"}),
        }
        help_texts = {"starts": _("Leave both times empty for a day without calls.")}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts"), data.get("ends")
        if (starts is None) != (ends is None):
            raise forms.ValidationError(_("Give both times, or neither for a day without calls."))
        if starts is not None and ends is not None and starts >= ends:
            raise forms.ValidationError(_("The end must be after the start."))
        return data


class TimeOffForm(forms.ModelForm):
    class Meta:
        model = TimeOff
        fields = ["starts_at", "ends_at", "reason"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_at") and data.get("ends_at") and data["starts_at"] >= data["ends_at"]:
            raise forms.ValidationError(_("The end must be after the start."))
        return data
