"""Forms of scheduling pages: they parse input; the services decide."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orderflow.pipelines.models import Order
from orderflow.scheduling.models import BookingType, DateOverride, TimeOff, WeeklyHours
from orderflow.widgets import DateInput, DateTimeInput, TimeInput, TimeZoneInput


class PageZoneForm(forms.Form):
    """The zone a booking page's times are shown in (a GET form; `selectors.page_time_zone` reads it):
    the same searchable picker as the client's message settings."""

    tz = forms.CharField(
        label=_("Times are shown in this time zone"),
        max_length=64,
        required=False,
        help_text=_("Type to search, e.g. Lisbon or Moscow."),
        widget=TimeZoneInput(),
    )

    @classmethod
    def showing(cls, zone_name: str) -> PageZoneForm:
        return cls(initial={"tz": zone_name}, auto_id="%s")


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
            "starts": TimeInput(),
            "ends": TimeInput(),
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
            "date": DateInput(),
            "starts": TimeInput(),
            "ends": TimeInput(),
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
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_at") and data.get("ends_at") and data["starts_at"] >= data["ends_at"]:
            raise forms.ValidationError(_("The end must be after the start."))
        return data


class BookingTypeForm(forms.Form):
    """Settings → Booking types: parses the page's input; configure.check_settings judges the values."""

    name = forms.CharField(
        label=_("Name"), max_length=200, help_text=_("Clients see it, e.g. “Review call”.")
    )
    description = forms.CharField(label=_("What the call is for"), max_length=400, required=False)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), initial=30)
    buffer_before_minutes = forms.IntegerField(label=_("Free time before (minutes)"), initial=0)
    buffer_after_minutes = forms.IntegerField(label=_("Free time after (minutes)"), initial=0)
    minimum_notice_minutes = forms.IntegerField(
        label=_("Minimum notice (minutes)"),
        initial=240,
        help_text=_("The earliest time offered is this long from now."),
    )
    days_ahead = forms.IntegerField(label=_("Bookable this many days ahead"), initial=30)
    slot_step_minutes = forms.IntegerField(label=_("A slot starts every (minutes)"), initial=30)
    max_per_day = forms.IntegerField(
        label=_("At most this many per staff member and day"), required=False, help_text=_("Empty: no limit.")
    )
    assignment = forms.ChoiceField(
        label=_("Who takes the call"),
        choices=BookingType.Assignment.choices,
        initial=BookingType.Assignment.ORDER_OWNER,
        widget=forms.RadioSelect,
    )
    staff_ids = forms.TypedMultipleChoiceField(
        label=_("Round-robin group"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The least booked of them takes the next call."),
    )
    stage_key = forms.ChoiceField(label=_("After booking, move the order to"), required=False)
    change_until_hours = forms.IntegerField(
        label=_("Client may reschedule or cancel until (hours before)"), initial=24
    )
    invitation_valid_days = forms.IntegerField(label=_("Booking link valid for (days)"), initial=30)

    def __init__(self, *args: Any, staff: Iterable[Any], stage_keys: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff_ids"].choices = [  # type: ignore[attr-defined]
            (member.pk, member.get_full_name()) for member in staff
        ]
        current = str(self.initial.get("stage_key") or "")
        keys = sorted({*stage_keys, *([current] if current else [])})
        self.fields["stage_key"].choices = [  # type: ignore[attr-defined]
            ("", _("Leave the order where it is")),
            *[(key, key) for key in keys],
        ]
