"""Business days in the organisation's calendar: weekends, public holidays, own closing days, DST."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from orderflow.accounts.business_calendar import BusinessCalendar, check_calendar_settings
from orderflow.accounts.models import ClosingDay, Organisation

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
LISBON = zoneinfo.ZoneInfo("Europe/Lisbon")
UTC = datetime.UTC


def _local(calendar: BusinessCalendar, moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(calendar.zone)


def test_us_reminders_after_a_friday_in_december_skip_christmas_and_new_year():
    calendar = BusinessCalendar(time_zone="America/New_York", country="US")
    sent = datetime.datetime(2026, 12, 18, 15, 30, tzinfo=NEW_YORK)  # Friday afternoon
    due = [_local(calendar, calendar.add_business_days(sent, n)) for n in (5, 10, 15, 20)]
    # Dec 25 (Christmas) and Jan 1 (New Year) are holidays; Jan 18 is Martin Luther King Jr. Day.
    assert [d.date() for d in due] == [
        datetime.date(2026, 12, 28),
        datetime.date(2027, 1, 5),
        datetime.date(2027, 1, 12),
        datetime.date(2027, 1, 20),
    ]
    assert all(d.time() == datetime.time(15, 30) for d in due)


def test_lisbon_reminders_keep_the_wall_clock_time_across_the_end_of_summer_time():
    calendar = BusinessCalendar(time_zone="Europe/Lisbon", country="PT")
    sent = datetime.datetime(2026, 10, 16, 15, 0, tzinfo=LISBON)  # Friday, summer time (UTC+1)
    fifth = calendar.add_business_days(sent, 5)
    tenth = calendar.add_business_days(sent, 10)
    assert fifth == datetime.datetime(2026, 10, 23, 14, 0, tzinfo=UTC)  # still summer time
    assert tenth == datetime.datetime(2026, 10, 30, 15, 0, tzinfo=UTC)  # clocks went back on 25 Oct
    assert _local(calendar, tenth).time() == datetime.time(15, 0)


def test_portuguese_holidays_are_skipped():
    calendar = BusinessCalendar(time_zone="Europe/Lisbon", country="PT")
    # Mon 30 Nov 2026 + 1 business day: Tue 1 Dec is Restoration of Independence.
    start = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=LISBON)
    assert _local(calendar, calendar.add_business_days(start, 1)).date() == datetime.date(2026, 12, 2)


def test_a_region_adds_its_own_holiday():
    national = BusinessCalendar(time_zone="Europe/Lisbon", country="PT")
    lisbon = BusinessCalendar(time_zone="Europe/Lisbon", country="PT", subdivision="11")
    st_anthony = datetime.date(2025, 6, 13)  # a Friday in 2025
    assert national.is_business_day(st_anthony)
    assert not lisbon.is_business_day(st_anthony)


def test_the_organisations_own_closing_day_and_work_week():
    calendar = BusinessCalendar(
        work_days=(0, 1, 2, 3), closing_days=((datetime.date(2026, 3, 3), "Team retreat"),)
    )
    monday = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    # Tue 3 closed, Fri 6 not a work day: Mon → Wed 4, Thu 5, Mon 9.
    assert calendar.add_business_days(monday, 3).date() == datetime.date(2026, 3, 9)
    off = dict(calendar.days_off(datetime.date(2026, 3, 2), datetime.date(2026, 3, 8)))
    assert off[datetime.date(2026, 3, 3)] == "Team retreat"
    assert datetime.date(2026, 3, 6) in off


def test_a_wall_clock_time_inside_the_spring_forward_gap_moves_forward():
    calendar = BusinessCalendar(time_zone="America/New_York", work_days=(0, 1, 2, 3, 4, 5, 6))
    start = datetime.datetime(2026, 3, 7, 2, 30, tzinfo=NEW_YORK)  # Saturday 02:30 exists
    result = _local(calendar, calendar.add_business_days(start, 1))  # Sunday 02:30 does not
    assert result.date() == datetime.date(2026, 3, 8)
    assert result.hour == 3


def test_zero_days_is_the_same_moment_and_naive_times_are_refused():
    calendar = BusinessCalendar()
    moment = datetime.datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
    assert calendar.add_business_days(moment, 0) == moment
    with pytest.raises(ValueError, match="aware"):
        calendar.add_business_days(datetime.datetime(2026, 5, 5, 12, 0), 1)


@pytest.mark.parametrize(
    ("work_days", "country", "region", "field"),
    [
        ([], "", "", "work_days"),
        ([0, 9], "", "", "work_days"),
        ([0, 1], "XX", "", "holiday_country"),
        ([0, 1], "PT", "99", "holiday_subdivision"),
        ([0, 1], "", "CA", "holiday_subdivision"),
    ],
)
def test_wrong_calendar_settings_are_refused_with_the_setting_named(work_days, country, region, field):
    with pytest.raises(ValidationError) as refused:
        check_calendar_settings(work_days, country, region)
    assert field in refused.value.message_dict


@pytest.mark.django_db
def test_the_organisations_calendar_is_read_from_its_settings():
    organisation = Organisation.current()
    organisation.time_zone = "America/New_York"
    organisation.holiday_country = "US"
    organisation.save()
    ClosingDay.objects.create(date=datetime.date(2026, 12, 24), name="Christmas Eve")
    calendar = BusinessCalendar.of_organisation()
    assert not calendar.is_business_day(datetime.date(2026, 12, 24))
    assert not calendar.is_business_day(datetime.date(2026, 12, 25))
    assert calendar.is_business_day(datetime.date(2026, 12, 23))
