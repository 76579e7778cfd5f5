"""Settings → Booking types: admins and managers list, create, edit and deactivate kinds of call. Thin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orderflow.accounts.models import User
from orderflow.scheduling import configure
from orderflow.scheduling.forms import BookingTypeForm
from orderflow.scheduling.models import BookingType
from orderflow.scheduling.selectors import booking_types_for_settings


def _form(request: HttpRequest, booking_type: BookingType | None) -> BookingTypeForm:
    initial: dict[str, Any] = {}
    if booking_type is not None:
        initial = vars(configure.BookingTypeSettings.of(booking_type)).copy()
        initial["staff_ids"] = list(initial["staff_ids"])
    return BookingTypeForm(
        request.POST or None,
        initial=initial,
        staff=configure.staff_who_take_calls(),
        stage_keys=configure.stage_keys(),
    )


def _settings_from(form: BookingTypeForm) -> configure.BookingTypeSettings:
    data = form.cleaned_data
    return configure.BookingTypeSettings(
        name=data["name"],
        description=data["description"],
        duration_minutes=data["duration_minutes"],
        buffer_before_minutes=data["buffer_before_minutes"],
        buffer_after_minutes=data["buffer_after_minutes"],
        minimum_notice_minutes=data["minimum_notice_minutes"],
        days_ahead=data["days_ahead"],
        slot_step_minutes=data["slot_step_minutes"],
        max_per_day=data["max_per_day"],
        assignment=data["assignment"],
        staff_ids=tuple(data["staff_ids"]),
        stage_key=data["stage_key"],
        change_until_hours=data["change_until_hours"],
        invitation_valid_days=data["invitation_valid_days"],
    )


def _save(
    request: HttpRequest, form: BookingTypeForm, booking_type: BookingType | None
) -> BookingType | None:
    """Create or update from a valid form; None (errors added to the form) when the service refuses."""
    by: User = request.user  # type: ignore[assignment]
    try:
        if booking_type is None:
            return configure.create_booking_type(_settings_from(form), by=by)
        return configure.update_booking_type(booking_type, _settings_from(form), by=by)
    except configure.BookingTypeInputError as error:
        for name, message in error.errors.items():
            form.add_error(name if name in form.fields else None, message)
    return None


@login_required
@permission_required("scheduling.view_bookingtype", raise_exception=True)
def booking_type_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "scheduling/booking_type_list.html", {"booking_types": booking_types_for_settings()}
    )


@login_required
@permission_required("scheduling.add_bookingtype", raise_exception=True)
def booking_type_create(request: HttpRequest) -> HttpResponse:
    form = _form(request, None)
    if request.method == "POST" and form.is_valid():
        created = _save(request, form, None)
        if created is not None:
            messages.success(request, _("Kind of call “%(name)s” created.") % {"name": created.name})
            return redirect("scheduling:settings-booking-types")
    status = 422 if form.errors else 200
    return render(request, "scheduling/booking_type_form.html", {"form": form}, status=status)


@login_required
@permission_required("scheduling.change_bookingtype", raise_exception=True)
def booking_type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    booking_type = get_object_or_404(BookingType, pk=pk)
    form = _form(request, booking_type)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, booking_type)
        if saved is not None:
            messages.success(request, _("Kind of call “%(name)s” saved.") % {"name": saved.name})
            return redirect("scheduling:settings-booking-types")
    status = 422 if form.errors else 200
    return render(
        request,
        "scheduling/booking_type_form.html",
        {"form": form, "booking_type": booking_type},
        status=status,
    )


@login_required
@permission_required("scheduling.change_bookingtype", raise_exception=True)
@require_POST
def booking_type_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    booking_type = get_object_or_404(BookingType, pk=pk)
    is_active = request.POST.get("is_active") == "true"
    configure.set_booking_type_active(booking_type, is_active, by=request.user)  # type: ignore[arg-type]
    if is_active:
        messages.success(request, _("“%(name)s” is active again.") % {"name": booking_type.name})
    else:
        messages.success(
            request,
            _("“%(name)s” is deactivated: no new booking links; links already sent still work.")
            % {"name": booking_type.name},
        )
    return redirect("scheduling:settings-booking-types")
