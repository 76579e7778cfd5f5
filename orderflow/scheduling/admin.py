"""Admin site for scheduling (superusers). Staff set up booking types in Settings; bookings are read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from orderflow.scheduling.models import Booking, BookingType, DateOverride, TimeOff, WeeklyHours


@admin.register(BookingType)
class BookingTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "duration_minutes", "assignment", "stage_key", "is_active"]
    filter_horizontal = ["staff"]


@admin.register(WeeklyHours)
class WeeklyHoursAdmin(admin.ModelAdmin):
    list_display = ["staff", "weekday", "starts", "ends"]
    list_filter = ["staff"]


@admin.register(DateOverride)
class DateOverrideAdmin(admin.ModelAdmin):
    list_display = ["staff", "date", "starts", "ends"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["staff", "starts_at", "ends_at", "reason"]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-only: bookings change only through the scheduling services (events, notices, constraint)."""

    list_display = ["starts_at", "staff", "order", "status"]
    list_filter = ["status", "staff"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False
