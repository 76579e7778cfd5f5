"""Reads for scheduling pages: invitations by token, free slots by the client's days, staff weeks, feeds."""

from __future__ import annotations

import datetime
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from orderflow.accounts.models import Organisation, User
from orderflow.pipelines.models import Order
from orderflow.scheduling import availability
from orderflow.scheduling.models import Booking, BookingInvitation, BookingType, CalendarFeed
from orderflow.scheduling.services import booking_link, hash_token, staff_for
from orderflow.widgets import zone_named


def invitation_by_token(token: str) -> BookingInvitation | None:
    """The invitation behind a link token, with its order, client and owner; None for an unknown token.

    Whether the link still opens (expired, revoked, a booked call still ahead) is for the caller to
    check with services.check_link_opens, in the client's language.
    """
    return (
        BookingInvitation.objects.select_related("booking_type", "order__client", "order__owner")
        .filter(token_hash=hash_token(token))
        .first()
    )


def open_booking_link_for(order: Order, *, now: datetime.datetime | None = None) -> str | None:
    """The full URL of the order's newest booking link that can still book a call — not revoked, not
    expired, not yet booked — or None. For messages that carry `links.booking` (notifications)."""
    invitation = (
        BookingInvitation.objects.filter(
            order=order, revoked_at__isnull=True, expires_at__gt=now or timezone.now()
        )
        .exclude(bookings__status=Booking.Status.CONFIRMED)
        .order_by("-created_at", "-id")
        .first()
    )
    return booking_link(invitation) if invitation is not None else None


def current_booking(invitation: BookingInvitation) -> Booking | None:
    """The invitation's confirmed booking, if the client has booked."""
    return (
        invitation.bookings.select_related("staff", "booking_type")
        .filter(status=Booking.Status.CONFIRMED)
        .first()
    )


def page_time_zone(requested: str | None, *, fallback: str) -> tuple[zoneinfo.ZoneInfo, bool]:
    """The zone a booking page is shown in, and whether a requested zone was refused.

    A missing zone uses `fallback` (the client's); a city typed alone is its zone ("Tokyo": Asia/Tokyo,
    as the picker completes it in the browser); a nonsense one uses the organisation's.
    """
    if requested and not availability.is_time_zone(requested):
        requested = zone_named(requested) or requested
    if requested and availability.is_time_zone(requested):
        return zoneinfo.ZoneInfo(requested), False
    if requested:
        return availability.zone_of(Organisation.current().time_zone), True
    return availability.zone_of(fallback, Organisation.current().time_zone), False


@dataclass(frozen=True)
class SlotDay:
    """One day in the viewer's zone with the free starts on it."""

    date: datetime.date
    slots: list[availability.Slot]


def slot_days(
    invitation: BookingInvitation,
    *,
    zone: zoneinfo.ZoneInfo,
    first_day: datetime.date,
    days: int,
    now: datetime.datetime,
    ignore_booking_id: int | None = None,
) -> list[SlotDay]:
    """The days with free slots for the invitation's call in `days` days from `first_day`, in the
    viewer's dates (days without a free slot are left out)."""
    every_day = _every_slot_day(
        invitation, zone=zone, first_day=first_day, days=days, now=now, ignore_booking_id=ignore_booking_id
    )
    return [day for day in every_day if day.slots]


def _every_slot_day(
    invitation: BookingInvitation,
    *,
    zone: zoneinfo.ZoneInfo,
    first_day: datetime.date,
    days: int,
    now: datetime.datetime,
    ignore_booking_id: int | None,
) -> list[SlotDay]:
    """Every one of the `days` dates from `first_day` in the viewer's zone, with its free slots (maybe none)."""
    period_start = datetime.datetime.combine(first_day, datetime.time(), tzinfo=zone).astimezone(datetime.UTC)
    last_day = first_day + datetime.timedelta(days=days)
    period_end = datetime.datetime.combine(last_day, datetime.time(), tzinfo=zone).astimezone(datetime.UTC)
    booking_type = invitation.booking_type
    staff = staff_for(invitation.order, booking_type)
    calendars = availability.load_calendars(
        booking_type,
        staff,
        period_start=period_start,
        period_end=period_end,
        ignore_booking_id=ignore_booking_id,
    )
    slots = availability.free_slots(
        booking_type, calendars, now=now, period_start=period_start, period_end=period_end
    )
    by_day: dict[datetime.date, list[availability.Slot]] = defaultdict(list)
    for slot in slots:
        by_day[slot.starts_at.astimezone(zone).date()].append(slot)
    dates = [first_day + datetime.timedelta(days=offset) for offset in range(days)]
    return [SlotDay(date=day, slots=by_day[day]) for day in dates]


def first_free_day(
    invitation: BookingInvitation,
    *,
    zone: zoneinfo.ZoneInfo,
    now: datetime.datetime,
    ignore_booking_id: int | None,
) -> datetime.date | None:
    """The viewer's first date with a free slot within the booking horizon (looked for a week at a time)."""
    day = now.astimezone(zone).date()
    horizon = day + datetime.timedelta(days=invitation.booking_type.days_ahead + 1)
    while day <= horizon:
        found = slot_days(
            invitation, zone=zone, first_day=day, days=7, now=now, ignore_booking_id=ignore_booking_id
        )
        if found:
            return found[0].date
        day += datetime.timedelta(days=7)
    return None


@dataclass(frozen=True)
class SlotWeek:
    """What the client's "pick a time" page shows: a run of days (each date, free times or not), the
    day whose times are listed, and where Earlier and Later lead (None where they would lead nowhere)."""

    days: list[SlotDay]
    chosen: SlotDay | None
    earlier: datetime.date | None
    later: datetime.date | None

    @property
    def first_day(self) -> datetime.date:
        return self.days[0].date

    @property
    def last_day(self) -> datetime.date:
        return self.days[-1].date


def slot_week(
    invitation: BookingInvitation,
    *,
    zone: zoneinfo.ZoneInfo,
    now: datetime.datetime,
    start: datetime.date | None,
    wanted: datetime.date | None,
    ignore_booking_id: int | None,
    days: int = 7,
) -> SlotWeek:
    """The week of free times a client sees, in their zone, and the day chosen in it.

    `start` is the first day asked for (the page's `from`); one before today, or none, means the week
    that opens on the first day with free times. `wanted` is a day the client asked for (`day`, or the
    day of a time just refused): without a `start` it picks which week (the Earlier/Later step that
    holds it, if it lies within the horizon). The chosen day is `wanted` when it is in the week and has
    free times; otherwise the week's first day with free times, or None when the week has none.
    """
    today = now.astimezone(zone).date()
    horizon = today + datetime.timedelta(days=invitation.booking_type.days_ahead)
    step = datetime.timedelta(days=days)
    if start is None or start < today:
        start = first_free_day(invitation, zone=zone, now=now, ignore_booking_id=ignore_booking_id) or today
        if wanted is not None and start <= wanted <= horizon:
            start += step * ((wanted - start).days // days)
    shown = _every_slot_day(
        invitation, zone=zone, first_day=start, days=days, now=now, ignore_booking_id=ignore_booking_id
    )
    with_times = [day for day in shown if day.slots]
    chosen = next((day for day in with_times if day.date == wanted), with_times[0] if with_times else None)
    return SlotWeek(
        days=shown,
        chosen=chosen,
        earlier=max(start - step, today) if start > today else None,
        later=start + step if start + step <= horizon else None,
    )


@dataclass(frozen=True)
class CalendarDay:
    date: datetime.date
    bookings: list[Booking]


def week_of_bookings(staff: User, *, monday: datetime.date, zone: zoneinfo.ZoneInfo) -> list[CalendarDay]:
    """The staff member's confirmed bookings Monday to Sunday in `zone`, with order and client (one query)."""
    start = datetime.datetime.combine(monday, datetime.time(), tzinfo=zone).astimezone(datetime.UTC)
    end = datetime.datetime.combine(monday + datetime.timedelta(days=7), datetime.time(), tzinfo=zone)
    bookings = (
        Booking.objects.filter(
            staff=staff, status=Booking.Status.CONFIRMED, starts_at__gte=start, starts_at__lt=end
        )
        .select_related("order__client", "order__pipeline", "booking_type")
        .order_by("starts_at")
    )
    by_day: dict[datetime.date, list[Booking]] = defaultdict(list)
    for booking in bookings:
        by_day[booking.starts_at.astimezone(zone).date()].append(booking)
    days = [monday + datetime.timedelta(days=offset) for offset in range(7)]
    return [CalendarDay(date=day, bookings=by_day[day]) for day in days]


def feed_for_token(token: str) -> CalendarFeed | None:
    return CalendarFeed.objects.select_related("staff").filter(token_hash=hash_token(token)).first()


def feed_bookings(staff: User, *, now: datetime.datetime) -> list[Booking]:
    """Bookings for a staff feed: the last 30 days and everything ahead, cancelled ones included."""
    return list(
        Booking.objects.filter(staff=staff, starts_at__gte=now - datetime.timedelta(days=30))
        .select_related("staff", "booking_type", "order__client", "order__pipeline")
        .order_by("starts_at")
    )


def booking_types_for_settings() -> QuerySet[BookingType]:
    """Every kind of call for Settings → Booking types, active first, with its group (two queries)."""
    return BookingType.objects.prefetch_related(
        Prefetch("staff", queryset=User.objects.order_by("full_name", "pk"))
    ).order_by("-is_active", "name", "pk")
