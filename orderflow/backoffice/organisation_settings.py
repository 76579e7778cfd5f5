"""Settings → Business calendar: time zone, work week, public holidays and own closing days."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from orderflow.accounts.business_calendar import BusinessCalendar
from orderflow.accounts.models import ClosingDay, Organisation
from orderflow.accounts.services import (
    OrganisationSettingsError,
    add_closing_day,
    remove_closing_day,
    update_business_calendar,
)
from orderflow.errors import DomainError
from orderflow.widgets import DateInput

WEEKDAY_CHOICES = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]


class CalendarForm(forms.Form):
    time_zone = forms.CharField(
        label=gettext_lazy("Time zone"),
        max_length=64,
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
        help_text=gettext_lazy("Business days are counted in this zone, e.g. Europe/Lisbon."),
    )
    work_days = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Work days"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    holiday_country = forms.CharField(
        label=gettext_lazy("Public holidays of"),
        max_length=3,
        required=False,
        help_text=gettext_lazy("Country code such as US, PT or BR; empty for none."),
    )
    holiday_subdivision = forms.CharField(
        label=gettext_lazy("Region"),
        max_length=10,
        required=False,
        help_text=gettext_lazy("State or region code, e.g. CA or 11 (Lisbon); empty for the whole country."),
    )


class ClosingDayForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    name = forms.CharField(label=gettext_lazy("Reason"), max_length=120)


def _page(
    request: HttpRequest, form: CalendarForm, closing_form: ClosingDayForm, status: int = 200
) -> HttpResponse:
    calendar = BusinessCalendar.of_organisation()
    today = timezone.now().astimezone(calendar.zone).date()
    end = today + datetime.timedelta(days=365)
    days_off = [
        (day, reason) for day, reason in calendar.days_off(today, end) if day.weekday() in calendar.work_days
    ]
    context: dict[str, Any] = {
        "form": form,
        "closing_form": closing_form,
        "closing_days": ClosingDay.objects.filter(date__gte=today),
        "days_off": days_off,
        "zones": sorted(zoneinfo.available_timezones()),
    }
    return render(request, "backoffice/settings/calendar.html", context, status=status)


@login_required
@permission_required("accounts.change_organisation", raise_exception=True)
def calendar_settings(request: HttpRequest) -> HttpResponse:
    organisation = Organisation.current()
    initial = {
        "time_zone": organisation.time_zone,
        "work_days": organisation.work_days,
        "holiday_country": organisation.holiday_country,
        "holiday_subdivision": organisation.holiday_subdivision,
    }
    form = CalendarForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                update_business_calendar(by=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            except OrganisationSettingsError as error:
                for field, message in error.errors.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, _("Business calendar saved."))
                return redirect("backoffice:settings-calendar")
        return _page(request, form, ClosingDayForm(), status=422)
    return _page(request, form, ClosingDayForm())


@login_required
@permission_required("accounts.change_organisation", raise_exception=True)
@require_POST
def closing_day_add(request: HttpRequest) -> HttpResponse:
    closing_form = ClosingDayForm(request.POST)
    if closing_form.is_valid():
        try:
            add_closing_day(by=request.user, **closing_form.cleaned_data)  # type: ignore[arg-type]
        except OrganisationSettingsError as error:
            for field, message in error.errors.items():
                closing_form.add_error(field if field in closing_form.fields else None, message)
        else:
            messages.success(request, _("Closing day added."))
            return redirect("backoffice:settings-calendar")
    organisation = Organisation.current()
    form = CalendarForm(
        initial={
            "time_zone": organisation.time_zone,
            "work_days": organisation.work_days,
            "holiday_country": organisation.holiday_country,
            "holiday_subdivision": organisation.holiday_subdivision,
        }
    )
    return _page(request, form, closing_form, status=422)


@login_required
@permission_required("accounts.change_organisation", raise_exception=True)
@require_POST
def closing_day_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        remove_closing_day(get_object_or_404(ClosingDay, pk=pk), by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("backoffice:settings-calendar")
