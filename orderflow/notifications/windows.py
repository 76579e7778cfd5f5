"""Delivery windows: when a message may reach a person, computed in that person's own time zone."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

UTC = datetime.UTC


@dataclass(frozen=True)
class DeliveryWindow:
    """Local wall-clock hours [start, end) on the given weekdays (0 = Monday) in the zone `time_zone`.

    start == end means the whole day (no quiet hours), which is what a contact has until asked.
    """

    time_zone: str
    start: datetime.time
    end: datetime.time
    days: frozenset[int]

    @classmethod
    def of(
        cls, time_zone: str, start: datetime.time, end: datetime.time, days: Iterable[int]
    ) -> DeliveryWindow:
        return cls(time_zone=time_zone, start=start, end=end, days=frozenset(int(day) for day in days))


def _wall_clock(day: datetime.date, at: datetime.time, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """`day` at `at` in `zone` as an aware UTC datetime.

    A time that happens twice (clocks go back) is its first occurrence; a time that does not exist
    that day (skipped when clocks go forward) moves forward by the length of the gap, 02:30 → 03:30,
    as PEP 495 reads it.
    """
    return datetime.datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def next_delivery_time(now: datetime.datetime, window: DeliveryWindow) -> datetime.datetime:
    """The earliest instant at or after `now` (aware) inside `window`, in UTC.

    Inside the window (or on an allowed day when the window is the whole day): `now` itself. Otherwise the start of the next allowed day's window in the
    window's zone, e.g. 22:30 with 09:00-21:00 gives 09:00 the next allowed morning, whatever the
    clocks did overnight. A window with no days, or whose end is not after its start, never opens:
    ValueError (the preferences service refuses such windows before they are saved).
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if not window.days or window.end < window.start:
        raise ValueError("the delivery window never opens")
    all_day = window.start == window.end
    zone = zoneinfo.ZoneInfo(window.time_zone)
    local_now = now.astimezone(zone)
    day = local_now.date()
    for _offset in range(8):
        if day.weekday() in window.days and all_day:
            return max(now.astimezone(UTC), _wall_clock(day, datetime.time(0, 0), zone))
        if day.weekday() in window.days:
            opens = _wall_clock(day, window.start, zone)
            closes = _wall_clock(day, window.end, zone)
            if now < opens:
                return opens
            if now < closes:
                return now.astimezone(UTC)
        day += datetime.timedelta(days=1)
    raise AssertionError("unreachable: some weekday in eight days is allowed")
