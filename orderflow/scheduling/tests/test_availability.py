"""Slot computation: staff hours in their own zone across DST, buffers, notice, horizon, limits, overrides."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.scheduling import availability
from orderflow.scheduling.models import Booking, BookingType, DateOverride, TimeOff
from orderflow.scheduling.tests.conftest import NOW, UTC, add_office_hours, at
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def starts_on(
    booking_type: BookingType, staff: list[User], day: str, *, now: datetime.datetime = NOW
) -> list[datetime.datetime]:
    """The free starts on one UTC calendar day."""
    start = datetime.datetime.fromisoformat(day).replace(tzinfo=UTC)
    end = start + datetime.timedelta(days=1)
    calendars = availability.load_calendars(booking_type, staff, period_start=start, period_end=end)
    return [
        slot.starts_at
        for slot in availability.free_slots(
            booking_type, calendars, now=now, period_start=start, period_end=end
        )
    ]


def test_hours_stay_at_local_wall_clock_when_the_staff_members_clocks_change(lisbon_rep, call_type):
    before = starts_on(call_type, [lisbon_rep], "2027-03-26")  # Friday, Lisbon on WET (UTC+0)
    after = starts_on(call_type, [lisbon_rep], "2027-03-29")  # Monday, Lisbon on WEST (UTC+1)
    assert before[0] == at("2027-03-26T09:00+00:00")
    assert before[-1] == at("2027-03-26T16:30+00:00")
    assert after[0] == at("2027-03-29T08:00+00:00")
    assert after[-1] == at("2027-03-29T15:30+00:00")
    assert len(before) == len(after) == 16


def test_in_the_week_only_new_york_changed_the_gap_is_four_hours(lisbon_rep, call_type):
    new_york = zoneinfo.ZoneInfo("America/New_York")
    first = starts_on(call_type, [lisbon_rep], "2027-03-16")[0]
    assert first == at("2027-03-16T09:00+00:00")
    assert first.astimezone(new_york).hour == 5  # EDT since 14 March; Lisbon still on WET
    assert (
        starts_on(call_type, [lisbon_rep], "2027-03-09", now=NOW - datetime.timedelta(days=5))[0]
        .astimezone(new_york)
        .hour
        == 4
    )  # the week before: EST, a five-hour gap


def test_a_window_on_the_night_of_the_change_has_the_real_number_of_hours(call_type):
    night_owl = UserFactory(role=Role.REP, time_zone="Europe/Lisbon")
    DateOverride.objects.create(
        staff=night_owl, date=datetime.date(2027, 3, 28), starts=datetime.time(0, 0), ends=datetime.time(3, 0)
    )
    starts = starts_on(call_type, [night_owl], "2027-03-28")
    # 00:00 WET = 00:00Z; 03:00 WEST = 02:00Z: the night is two hours long, so four half-hour slots.
    assert starts == [at("2027-03-28T00:00+00:00") + datetime.timedelta(minutes=30 * n) for n in range(4)]


def test_minimum_notice_hides_the_next_hours(lisbon_rep, call_type):
    now = at("2027-03-16T10:10+00:00")
    starts = starts_on(call_type, [lisbon_rep], "2027-03-16", now=now)
    assert starts[0] == at("2027-03-16T14:30+00:00")  # 4 h notice: not before 14:10


def test_nothing_beyond_the_days_ahead(lisbon_rep, call_type):
    call_type.days_ahead = 5
    assert starts_on(call_type, [lisbon_rep], "2027-03-15")
    assert starts_on(call_type, [lisbon_rep], "2027-03-16") == []


def test_slots_in_the_past_are_never_offered(lisbon_rep, call_type):
    assert starts_on(call_type, [lisbon_rep], "2027-03-09") == []


def book_directly(staff: User, call_type: BookingType, invitation, start: str) -> Booking:
    starts_at = at(start)
    return Booking.objects.create(
        invitation=invitation,
        order=invitation.order,
        booking_type=call_type,
        staff=staff,
        starts_at=starts_at,
        ends_at=starts_at + call_type.duration,
        blocked_from=starts_at - call_type.buffer_before,
        blocked_until=starts_at + call_type.duration + call_type.buffer_after,
        client_time_zone="UTC",
    )


def test_buffers_keep_free_time_around_other_calls(lisbon_rep, call_type, invitation):
    call_type.buffer_before_minutes = 15
    call_type.buffer_after_minutes = 15
    call_type.save()
    book_directly(lisbon_rep, call_type, invitation, "2027-03-16T11:00+00:00")
    starts = starts_on(call_type, [lisbon_rep], "2027-03-16")
    # The booking blocks 10:45-11:45; a new call needs 15 min either side of its own 30 min.
    assert at("2027-03-16T10:00+00:00") in starts  # blocks 09:45-10:45: touches, does not overlap
    assert at("2027-03-16T10:30+00:00") not in starts
    assert at("2027-03-16T11:00+00:00") not in starts
    assert at("2027-03-16T11:30+00:00") not in starts
    assert at("2027-03-16T12:00+00:00") in starts


def test_max_per_day_closes_the_staff_members_day(lisbon_rep, call_type, invitation):
    call_type.max_per_day = 1
    call_type.save()
    book_directly(lisbon_rep, call_type, invitation, "2027-03-16T11:00+00:00")
    assert starts_on(call_type, [lisbon_rep], "2027-03-16") == []
    assert starts_on(call_type, [lisbon_rep], "2027-03-17")


def test_cancelled_bookings_free_their_time(lisbon_rep, call_type, invitation):
    booking = book_directly(lisbon_rep, call_type, invitation, "2027-03-16T11:00+00:00")
    booking.status = Booking.Status.CANCELLED
    booking.save()
    assert at("2027-03-16T11:00+00:00") in starts_on(call_type, [lisbon_rep], "2027-03-16")


def test_date_override_replaces_weekly_hours_and_empty_override_is_a_day_off(lisbon_rep, call_type):
    DateOverride.objects.create(
        staff=lisbon_rep,
        date=datetime.date(2027, 3, 16),
        starts=datetime.time(13, 0),
        ends=datetime.time(14, 0),
    )
    DateOverride.objects.create(staff=lisbon_rep, date=datetime.date(2027, 3, 17))
    assert starts_on(call_type, [lisbon_rep], "2027-03-16") == [
        at("2027-03-16T13:00+00:00"),
        at("2027-03-16T13:30+00:00"),
    ]
    assert starts_on(call_type, [lisbon_rep], "2027-03-17") == []


def test_time_off_blocks_calls(lisbon_rep, call_type):
    TimeOff.objects.create(
        staff=lisbon_rep, starts_at=at("2027-03-16T00:00+00:00"), ends_at=at("2027-03-16T12:00+00:00")
    )
    assert starts_on(call_type, [lisbon_rep], "2027-03-16")[0] == at("2027-03-16T12:00+00:00")


def test_round_robin_offers_the_least_booked_first(call_type, invitation):
    busy = UserFactory(role=Role.REP, time_zone="UTC")
    idle = UserFactory(role=Role.REP, time_zone="UTC")
    add_office_hours(busy)
    add_office_hours(idle)
    book_directly(busy, call_type, invitation, "2027-03-17T09:00+00:00")
    start = at("2027-03-16T09:00+00:00")
    end = start + datetime.timedelta(hours=1)
    calendars = availability.load_calendars(call_type, [busy, idle], period_start=start, period_end=end)
    slots = availability.free_slots(call_type, calendars, now=NOW, period_start=start, period_end=end)
    assert slots[0].staff_ids == (idle.pk, busy.pk)


def test_nonsense_zone_names_are_refused():
    assert availability.is_time_zone("America/New_York")
    assert not availability.is_time_zone("Mars/Olympus_Mons")
    assert not availability.is_time_zone("../../etc/passwd")
    assert not availability.is_time_zone("")
    assert availability.zone_of("Nowhere/Special", "Europe/Lisbon").key == "Europe/Lisbon"
