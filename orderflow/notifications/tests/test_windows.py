"""The delivery window: the next moment a message may reach someone, in their own zone, across DST."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from orderflow.notifications.windows import DeliveryWindow, next_delivery_time

UTC = datetime.UTC
LISBON = zoneinfo.ZoneInfo("Europe/Lisbon")
NINE_TO_NINE = DeliveryWindow.of("Europe/Lisbon", datetime.time(9), datetime.time(21), range(7))


def local(
    year: int, month: int, day: int, hour: int, minute: int, zone: zoneinfo.ZoneInfo = LISBON
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=zone)


def test_inside_the_window_is_now() -> None:
    now = local(2026, 11, 23, 15, 0)
    assert next_delivery_time(now, NINE_TO_NINE) == now


def test_late_evening_waits_until_nine_next_morning() -> None:
    result = next_delivery_time(local(2026, 11, 23, 22, 30), NINE_TO_NINE)
    assert result == local(2026, 11, 24, 9, 0)
    assert result.tzinfo == UTC


def test_early_morning_waits_until_nine_the_same_day() -> None:
    assert next_delivery_time(local(2026, 11, 24, 6, 15), NINE_TO_NINE) == local(2026, 11, 24, 9, 0)


def test_the_end_of_the_window_is_already_outside() -> None:
    assert next_delivery_time(local(2026, 11, 23, 21, 0), NINE_TO_NINE) == local(2026, 11, 24, 9, 0)


def test_the_night_clocks_go_back_still_gives_nine_local() -> None:
    # Lisbon leaves summer time on 2026-10-25 at 02:00 (WEST, UTC+1 → WET, UTC+0): 11.5 hours, not 10.5.
    evening = local(2026, 10, 24, 22, 30)
    result = next_delivery_time(evening, NINE_TO_NINE)
    assert result == datetime.datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert result.astimezone(LISBON).hour == 9
    assert result - evening == datetime.timedelta(hours=11, minutes=30)


def test_the_night_clocks_go_forward_still_gives_nine_local() -> None:
    # Lisbon enters summer time on 2026-03-29 at 01:00 (UTC+0 → UTC+1): 9.5 hours that night.
    evening = local(2026, 3, 28, 22, 30)
    result = next_delivery_time(evening, NINE_TO_NINE)
    assert result == datetime.datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert result - evening == datetime.timedelta(hours=9, minutes=30)


def test_the_window_is_in_the_recipients_zone_not_the_servers() -> None:
    moscow = DeliveryWindow.of("Europe/Moscow", datetime.time(9), datetime.time(21), range(7))
    # 19:00 UTC is 22:00 in Moscow: outside, although it is evening-but-open in Lisbon.
    result = next_delivery_time(datetime.datetime(2026, 11, 23, 19, 0, tzinfo=UTC), moscow)
    assert result == datetime.datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 09:00 MSK


def test_only_allowed_days_count() -> None:
    weekdays = DeliveryWindow.of("Europe/Lisbon", datetime.time(9), datetime.time(21), range(5))
    friday_night = local(2026, 11, 27, 22, 30)
    assert next_delivery_time(friday_night, weekdays) == local(2026, 11, 30, 9, 0)  # Monday
    saturday_noon = local(2026, 11, 28, 12, 0)
    assert next_delivery_time(saturday_noon, weekdays) == local(2026, 11, 30, 9, 0)


def test_a_start_in_the_skipped_hour_moves_forward_by_the_gap() -> None:
    # New York skips 02:00-03:00 on 2026-03-08; a window opening at 02:30 opens at 03:30 EDT that day.
    new_york = zoneinfo.ZoneInfo("America/New_York")
    window = DeliveryWindow.of("America/New_York", datetime.time(2, 30), datetime.time(5), range(7))
    result = next_delivery_time(local(2026, 3, 8, 1, 0, zone=new_york), window)
    assert result == datetime.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert result.astimezone(new_york).replace(tzinfo=None) == datetime.datetime(2026, 3, 8, 3, 30)


def test_equal_start_and_end_means_any_time_on_allowed_days() -> None:
    any_time = DeliveryWindow.of("Europe/Lisbon", datetime.time(0), datetime.time(0), range(5))
    monday_night = local(2026, 11, 23, 23, 45)
    assert next_delivery_time(monday_night, any_time) == monday_night
    assert next_delivery_time(local(2026, 11, 28, 12, 0), any_time) == local(2026, 11, 30, 0, 0)


@pytest.mark.parametrize(
    "window",
    [
        DeliveryWindow.of("Europe/Lisbon", datetime.time(9), datetime.time(21), []),
        DeliveryWindow.of("Europe/Lisbon", datetime.time(21), datetime.time(9), range(7)),
    ],
)
def test_a_window_that_never_opens_is_refused(window: DeliveryWindow) -> None:
    with pytest.raises(ValueError, match="never opens"):
        next_delivery_time(local(2026, 11, 23, 12, 0), window)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_delivery_time(datetime.datetime(2026, 11, 23, 12, 0), NINE_TO_NINE)
