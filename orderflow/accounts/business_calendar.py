"""Business-day arithmetic in the organisation's calendar: its time zone, work week and days off.

Reminders after "5 business days" and escalations after "N business days in a stage" use this, so a
date is never wrong across weekends, public holidays (from the `holidays` package), the
organisation's own closing days, year ends and DST changes.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from functools import cached_property

import holidays
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEEKDAYS = range(7)


def check_calendar_settings(work_days: object, country: str, subdivision: str) -> None:
    """Raise ValidationError with a message naming the wrong setting; nothing else happens."""
    if (
        not isinstance(work_days, list)
        or not work_days
        or any(not isinstance(day, int) or day not in WEEKDAYS for day in work_days)
    ):
        raise ValidationError({"work_days": _("Pick at least one work day (0 = Monday … 6 = Sunday).")})
    if not country:
        if subdivision:
            raise ValidationError({"holiday_subdivision": _("A region needs a country.")})
        return
    try:
        holidays.country_holidays(country, subdiv=subdivision or None, years=2026)
    except NotImplementedError:
        if country.upper() not in holidays.list_supported_countries():
            raise ValidationError(
                {"holiday_country": _("No public holidays are known for “%(code)s”.") % {"code": country}}
            ) from None
        raise ValidationError(
            {
                "holiday_subdivision": _("“%(country)s” has no region “%(region)s”.")
                % {"country": country, "region": subdivision}
            }
        ) from None


@dataclass(frozen=True)
class BusinessCalendar:
    """A calendar to count business days in. Build one per use; it caches holidays by year."""

    time_zone: str = "UTC"
    work_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    country: str = ""
    subdivision: str = ""
    # The organisation's own days off: (date, reason) pairs.
    closing_days: tuple[tuple[datetime.date, str], ...] = ()

    @classmethod
    def of_organisation(cls) -> BusinessCalendar:
        from orderflow.accounts.models import ClosingDay, Organisation

        organisation = Organisation.current()
        return cls(
            time_zone=organisation.time_zone,
            work_days=tuple(organisation.work_days or (0, 1, 2, 3, 4)),
            country=organisation.holiday_country,
            subdivision=organisation.holiday_subdivision,
            closing_days=tuple(ClosingDay.objects.values_list("date", "name")),
        )

    @cached_property
    def _closed(self) -> dict[datetime.date, str]:
        return dict(self.closing_days)

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        if not self.country:
            return None
        return holidays.country_holidays(self.country, subdiv=self.subdivision or None)

    def is_business_day(self, day: datetime.date) -> bool:
        if day.weekday() not in self.work_days or day in self._closed:
            return False
        return not (self._holidays is not None and day in self._holidays)

    def add_business_days(self, moment: datetime.datetime, days: int) -> datetime.datetime:
        """The moment `days` business days after `moment`, at the same local wall-clock time.

        Counting starts the day after `moment`'s local date, whatever day that is, so "5 business days
        after Friday 15:00" is the following Friday 15:00 when no day is off. The result is aware
        and in UTC; a wall-clock time that does not exist on the target day (the spring-forward hour)
        moves forward by the gap, as the clock on the wall would.
        """
        if moment.tzinfo is None:
            raise ValueError("add_business_days needs an aware datetime")
        if days < 0:
            raise ValueError("days must not be negative")
        local = moment.astimezone(self.zone)
        day = local.date()
        counted = 0
        while counted < days:
            day += datetime.timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        wall = datetime.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=self.zone)
        # Round-trip through UTC normalises a non-existent local time (inside the DST gap).
        return wall.astimezone(datetime.UTC)

    def days_off(self, start: datetime.date, end: datetime.date) -> list[tuple[datetime.date, str]]:
        """Every non-working day from `start` to `end` inclusive, with its reason, for the settings page."""
        result: list[tuple[datetime.date, str]] = []
        day = start
        while day <= end:
            if not self.is_business_day(day):
                result.append((day, self._reason(day)))
            day += datetime.timedelta(days=1)
        return result

    def _reason(self, day: datetime.date) -> str:
        if day in self._closed:
            return self._closed[day]
        if self._holidays is not None and day in self._holidays:
            return str(self._holidays.get(day))
        return _("Weekend")
