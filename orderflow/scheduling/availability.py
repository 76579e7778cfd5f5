"""Free slots: staff hours (in each staff member's zone) minus time off and bookings, as UTC instants.

Pure computation over rows loaded once per call; every datetime in and out is aware and in UTC.
Local wall-clock hours are turned into instants per date with zoneinfo, so a day on which the
staff member's clocks change has the right instants (and a 09:00 start stays 09:00 local).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orderflow.accounts.models import User
from orderflow.scheduling.models import Booking, BookingType, DateOverride, TimeOff, WeeklyHours

UTC = datetime.UTC
Interval = tuple[datetime.datetime, datetime.datetime]


@dataclass(frozen=True)
class Slot:
    """A bookable start; `staff_ids` are the people free then, the one to pick first."""

    starts_at: datetime.datetime
    ends_at: datetime.datetime
    staff_ids: tuple[int, ...]


def zone_of(name: str, fallback: str = "UTC") -> zoneinfo.ZoneInfo:
    """The zone called `name`, or `fallback` when the name is empty or not a real zone."""
    try:
        return zoneinfo.ZoneInfo(name) if name else zoneinfo.ZoneInfo(fallback)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(fallback)


def is_time_zone(name: str) -> bool:
    """Whether `name` is a zone name such as Europe/Lisbon (not a path, not empty)."""
    if not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_instant(day: datetime.date, time: datetime.time, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The UTC instant of wall-clock `time` on `day` in `zone` (a time skipped by DST moves forward)."""
    return datetime.datetime.combine(day, time, tzinfo=zone).astimezone(UTC)


def working_windows(
    day: datetime.date,
    zone: zoneinfo.ZoneInfo,
    weekly: Iterable[WeeklyHours],
    overrides: Iterable[DateOverride],
) -> list[Interval]:
    """The staff member's hours on `day` (their local date) as UTC intervals; overrides replace weekly hours."""
    todays_overrides = [override for override in overrides if override.date == day]
    if todays_overrides:
        pairs = [(o.starts, o.ends) for o in todays_overrides if o.starts is not None and o.ends is not None]
    else:
        pairs = [(hours.starts, hours.ends) for hours in weekly if hours.weekday == day.weekday()]
    return sorted((local_instant(day, start, zone), local_instant(day, end, zone)) for start, end in pairs)


def overlaps(start: datetime.datetime, end: datetime.datetime, intervals: Iterable[Interval]) -> bool:
    """Whether [start, end) meets any of the half-open `intervals`."""
    return any(start < other_end and other_start < end for other_start, other_end in intervals)


@dataclass
class StaffCalendar:
    """What is needed to find one staff member's free slots in a period (loaded by load_calendars)."""

    staff: User
    weekly: list[WeeklyHours]
    overrides: list[DateOverride]
    time_off: list[Interval]
    booked: list[Interval]
    booked_per_day: Counter[datetime.date]
    booked_total: int

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zone_of(self.staff.time_zone)


def load_calendars(
    booking_type: BookingType,
    staff: Sequence[User],
    *,
    period_start: datetime.datetime,
    period_end: datetime.datetime,
    ignore_booking_id: int | None = None,
) -> list[StaffCalendar]:
    """Hours, time off and confirmed bookings of `staff` around the period, in a fixed number of queries."""
    ids = [member.pk for member in staff]
    margin = datetime.timedelta(days=2)
    weekly: dict[int, list[WeeklyHours]] = defaultdict(list)
    for hours in WeeklyHours.objects.filter(staff_id__in=ids):
        weekly[hours.staff_id].append(hours)
    overrides: dict[int, list[DateOverride]] = defaultdict(list)
    for override in DateOverride.objects.filter(
        staff_id__in=ids, date__gte=(period_start - margin).date(), date__lte=(period_end + margin).date()
    ):
        overrides[override.staff_id].append(override)
    time_off: dict[int, list[Interval]] = defaultdict(list)
    for off in TimeOff.objects.filter(
        staff_id__in=ids, starts_at__lt=period_end + margin, ends_at__gt=period_start - margin
    ):
        time_off[off.staff_id].append((off.starts_at, off.ends_at))
    booked: dict[int, list[Interval]] = defaultdict(list)
    bookings = Booking.objects.filter(
        staff_id__in=ids,
        status=Booking.Status.CONFIRMED,
        blocked_from__lt=period_end + margin,
        blocked_until__gt=period_start - margin,
    )
    if ignore_booking_id is not None:
        bookings = bookings.exclude(pk=ignore_booking_id)
    per_day: dict[int, Counter[datetime.date]] = defaultdict(Counter)
    zones = {member.pk: zone_of(member.time_zone) for member in staff}
    for booking in bookings:
        booked[booking.staff_id].append((booking.blocked_from, booking.blocked_until))
        if booking.booking_type_id == booking_type.pk:
            per_day[booking.staff_id][booking.starts_at.astimezone(zones[booking.staff_id]).date()] += 1
    upcoming = Booking.objects.filter(
        staff_id__in=ids, status=Booking.Status.CONFIRMED, starts_at__gte=period_start - margin
    )
    if ignore_booking_id is not None:
        upcoming = upcoming.exclude(pk=ignore_booking_id)
    totals = Counter(upcoming.values_list("staff_id", flat=True))
    return [
        StaffCalendar(
            staff=member,
            weekly=weekly[member.pk],
            overrides=overrides[member.pk],
            time_off=time_off[member.pk],
            booked=booked[member.pk],
            booked_per_day=per_day[member.pk],
            booked_total=totals[member.pk],
        )
        for member in staff
    ]


def bookable_window(
    booking_type: BookingType, now: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    """The earliest and latest start a client may pick at `now` (minimum notice, days ahead)."""
    earliest = now + datetime.timedelta(minutes=booking_type.minimum_notice_minutes)
    latest = now + datetime.timedelta(days=booking_type.days_ahead)
    return earliest, latest


def free_slots(
    booking_type: BookingType,
    calendars: Sequence[StaffCalendar],
    *,
    now: datetime.datetime,
    period_start: datetime.datetime,
    period_end: datetime.datetime,
    ignore_bookings: bool = False,
) -> list[Slot]:
    """Starts in [period_start, period_end) that some staff member can take, soonest first.

    A start is offered when the call fits inside the staff member's hours for that local date, is
    within the booking type's notice and horizon, its range widened by the buffers meets no time off
    and no other booking's widened range, and the staff member's day has room under `max_per_day`.
    `ignore_bookings` answers "would this be free if nobody had booked?" (to explain a refusal).
    Staff in `staff_ids` are ordered least booked first, then by id (round-robin fairness).
    """
    earliest, latest = bookable_window(booking_type, now)
    start_bound = max(period_start, earliest)
    end_bound = min(period_end, latest + datetime.timedelta(microseconds=1))
    if start_bound >= end_bound:
        return []
    step = datetime.timedelta(minutes=booking_type.slot_step_minutes)
    duration = booking_type.duration
    free: dict[datetime.datetime, list[StaffCalendar]] = defaultdict(list)
    for calendar in calendars:
        zone = calendar.zone
        day = start_bound.astimezone(zone).date() - datetime.timedelta(days=1)
        last_day = end_bound.astimezone(zone).date()
        while day <= last_day:
            full = (
                booking_type.max_per_day is not None
                and not ignore_bookings
                and calendar.booked_per_day[day] >= booking_type.max_per_day
            )
            if not full:
                for window_start, window_end in working_windows(
                    day, zone, calendar.weekly, calendar.overrides
                ):
                    start = window_start
                    while start + duration <= window_end:
                        if start_bound <= start < end_bound and not _is_busy(
                            booking_type, calendar, start, ignore_bookings=ignore_bookings
                        ):
                            free[start].append(calendar)
                        start += step
            day += datetime.timedelta(days=1)
    return [
        Slot(
            starts_at=start,
            ends_at=start + duration,
            staff_ids=tuple(
                c.staff.pk for c in sorted(free[start], key=lambda c: (c.booked_total, c.staff.pk))
            ),
        )
        for start in sorted(free)
    ]


def _is_busy(
    booking_type: BookingType, calendar: StaffCalendar, start: datetime.datetime, *, ignore_bookings: bool
) -> bool:
    blocked_from = start - booking_type.buffer_before
    blocked_until = start + booking_type.duration + booking_type.buffer_after
    if overlaps(blocked_from, blocked_until, calendar.time_off):
        return True
    return not ignore_bookings and overlaps(blocked_from, blocked_until, calendar.booked)
