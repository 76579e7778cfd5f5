"""Issue 8 end to end: a client in New York books a call with a rep in Lisbon from the e-mailed link.

The call is booked in the next week, counted from today, in which only one of the two cities has
changed its clocks (the US moves on the 2nd Sunday of March and the 1st of November, the EU on the
last Sundays of March and October), so the gap is four hours instead of five: the page, the
e-mailed .ics and the database must all name the same instant. Real live server, Chromium set to
America/New_York, SMTP server; every date is computed from the real clock, so nothing needs freezing
and nothing expires. A page opened in Chromium set to Asia/Tokyo shows the times in Tokyo.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from orderflow.accounts.roles import Role
from orderflow.pipelines.models import Order
from orderflow.scheduling import services
from orderflow.scheduling.availability import local_instant
from orderflow.scheduling.models import Booking, BookingType, WeeklyHours
from tests.factories import TEST_PASSWORD, ContactFactory, OrderFactory, PipelineFactory, UserFactory
from tests.fixtures.browser import DESKTOP, PHONE, Screenshot
from tests.fixtures.smtp import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.integration]

UTC = datetime.UTC
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
LISBON = zoneinfo.ZoneInfo("Europe/Lisbon")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def has_changed_clocks(zone: zoneinfo.ZoneInfo, day: datetime.date) -> bool:
    """Whether `zone` is on other clocks at noon UTC of `day` than on 1 January of that year."""
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=UTC)
    new_year = datetime.datetime(day.year, 1, 1, 12, tzinfo=UTC)
    return noon.astimezone(zone).utcoffset() != new_year.astimezone(zone).utcoffset()


def next_day_only_one_city_changed(today: datetime.date) -> datetime.date:
    """The first weekday from two days after `today` on which exactly one of New York and Lisbon
    has changed its clocks: in March between the US and the EU change, in autumn between the EU's
    return and the US's. Derived from zoneinfo offsets, never from a calendar written down here."""
    day = today + datetime.timedelta(days=2)
    for _day in range(800):
        if day.weekday() < 5 and has_changed_clocks(NEW_YORK, day) != has_changed_clocks(LISBON, day):
            return day
        day += datetime.timedelta(days=1)
    raise AssertionError("no week in the next two years in which only one of the cities changed clocks")


def day_heading(day: datetime.date) -> str:
    """A date as the booking pages name it ("l j F" in English): "Tuesday 16 March"."""
    return f"{day:%A} {day.day} {day:%B}"


def next_weekday(day: datetime.date) -> datetime.date:
    """The first Monday-to-Friday date after `day`."""
    day += datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


@pytest.fixture
def call_day() -> datetime.date:
    day = next_day_only_one_city_changed(timezone.now().astimezone(LISBON).date())
    two_pm = local_instant(day, datetime.time(14), LISBON)
    gap = two_pm.astimezone(LISBON).utcoffset() - two_pm.astimezone(NEW_YORK).utcoffset()  # type: ignore[operator]
    assert gap == datetime.timedelta(hours=4)  # five hours the rest of the year
    return day


def horizon_to(day: datetime.date) -> int:
    """`days_ahead` for a booking type whose horizon reaches `day` with a week to spare."""
    return (day - timezone.now().astimezone(LISBON).date()).days + 7


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2027-03-01", "2027-03-15"),  # US moved on 14 March 2027, the EU on 28 March
        (
            "2027-03-25",
            "2027-11-01",
        ),  # too late for March: the EU goes back on 31 October, the US on 7 November
        ("2026-10-20", "2026-10-26"),  # EU back on 25 October 2026, US on 1 November
        ("2026-11-05", "2027-03-15"),
    ],
)
def test_the_week_only_one_city_changed_clocks_is_found_from_any_day(today: str, expected: str) -> None:
    day = next_day_only_one_city_changed(datetime.date.fromisoformat(today))
    assert day == datetime.date.fromisoformat(expected)


@pytest.fixture
def new_york_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, timezone_id="America/New_York", locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_client_in_new_york_books_a_call_with_a_rep_in_lisbon(
    live_server: object,
    smtp_delivery: SmtpServer,
    new_york_page: Page,
    screenshot: Screenshot,
    tmp_path: Path,
    call_day: datetime.date,
) -> None:
    page = new_york_page
    call_utc = local_instant(call_day, datetime.time(14), LISBON)  # 14:00 in Lisbon
    call_in_new_york = call_utc.astimezone(NEW_YORK)
    assert call_in_new_york.strftime("%H:%M") == "10:00"  # four hours behind this week, not five
    first_in_new_york = local_instant(call_day, datetime.time(9), LISBON).astimezone(NEW_YORK)
    rep = UserFactory(
        role=Role.REP, email="rita@agency.example", full_name="Rita Rep", time_zone="Europe/Lisbon"
    )
    for weekday in range(5):
        WeeklyHours.objects.create(
            staff=rep, weekday=weekday, starts=datetime.time(9), ends=datetime.time(17)
        )
    client = ContactFactory(name="Ana Baker", email="ana@bakery.example", time_zone="UTC")
    order: Order = OrderFactory(
        pipeline=PipelineFactory(), client=client, owner=rep, stage="questionnaire-received"
    )
    call_type = BookingType.objects.create(
        name="Questionnaire review call",
        duration_minutes=30,
        days_ahead=horizon_to(call_day),
        stage_key="followup-call-scheduled",
    )
    _invitation, token = services.invite_to_book(order, call_type, by=rep)

    # No zone in the link: the page asks the browser (Intl) and shows New York time.
    page.goto(f"{live_server}/book/{token}/?from={call_day.isoformat()}")
    expect(page).to_have_url(re.compile(r"tz=America%2FNew_York"))
    expect(page.get_by_label("Times are shown in this time zone")).to_have_value("America/New_York")
    days = page.get_by_role("navigation", name="Choose a day")
    expect(days.get_by_role("link", name=day_heading(call_day))).to_have_attribute("aria-current", "true")
    screenshot(page, "pick-a-time")
    # Another day first, then the call's day: only the chosen day's times are listed.
    other_day = next_weekday(call_day)
    days.get_by_role("link", name=day_heading(other_day)).click()
    expect(page.get_by_role("heading", level=2)).to_have_text(day_heading(other_day))
    expect(days.get_by_role("link", name=day_heading(call_day))).not_to_have_attribute("aria-current", "true")
    days.get_by_role("link", name=day_heading(call_day)).click()
    expect(page.get_by_role("heading", level=2)).to_have_text(day_heading(call_day))
    expect(page).to_have_url(re.compile(f"day={call_day.isoformat()}"))
    times = page.get_by_role("region", name=day_heading(call_day))
    expect(times.get_by_role("link").first).to_have_text(first_in_new_york.strftime("%H:%M"))  # 09:00 Lisbon
    times.get_by_role("link", name="10:00", exact=True).click()

    booked_text = f"{day_heading(call_day)} {call_day.year}, 10:00 \u2013 10:30"
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your call")
    expect(page.locator("#chosen-time")).to_have_text(booked_text)
    expect(page.get_by_text("For Rita that is 14:00 (Europe/Lisbon).")).to_be_visible()
    screenshot(page, "confirm")
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your call is booked")
    expect(page.locator("#booked-time")).to_have_text(booked_text)
    screenshot(page, "booked")
    # The instant on the page, read by the browser itself, is the booked one, shown at 10:00 in its zone.
    shown = page.locator("#booked-time time").evaluate(
        "node => new Date(node.getAttribute('datetime')).toISOString()"
    )
    assert shown == call_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    local = page.locator("#booked-time time").evaluate(
        "node => new Date(node.getAttribute('datetime')).toLocaleTimeString('en-GB', {hour: '2-digit', minute: '2-digit'})"
    )
    assert local == "10:00"

    booking = Booking.objects.get()
    assert booking.starts_at == call_utc
    assert booking.staff == rep
    assert booking.client_time_zone == "America/New_York"
    order.refresh_from_db()
    assert order.stage.key == "followup-call-scheduled"

    # The .ics the client downloads and the one e-mailed to both sides name the same instant.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to my calendar").click()
    downloaded = tmp_path / "call.ics"
    download_info.value.save_as(downloaded)
    calendars = [icalendar.Calendar.from_ical(downloaded.read_bytes())]
    smtp_delivery.wait_for(3)
    for mail in smtp_delivery.messages:
        for part in mail.message.iter_attachments():
            if part.get_content_type() == "text/calendar":
                calendars.append(icalendar.Calendar.from_ical(part.get_content()))
    assert len(calendars) == 3
    for calendar in calendars:
        event = calendar.walk("VEVENT")[0]
        assert event.decoded("dtstart") == call_utc
        assert event.decoded("dtend") == call_utc + datetime.timedelta(minutes=30)
        attendees = event["attendee"]
        assert isinstance(attendees, list)
        assert sorted(str(a) for a in attendees) == [
            "mailto:ana@bakery.example",
            "mailto:rita@agency.example",
        ]

    # Nonsense in the zone falls back to the organisation's (UTC here), and says so.
    page.goto(f"{live_server}/book/{token}/?change=1&tz=Mars/Olympus_Mons&from={call_day.isoformat()}")
    expect(page.get_by_text("We did not recognise that time zone")).to_be_visible()
    expect(page.get_by_label("Times are shown in this time zone")).to_have_value("UTC")
    screenshot(page, "change-time-unknown-zone")

    # The zone field is searchable: "Tokyo" typed alone becomes Asia/Tokyo and applies at once (htmx
    # swaps the week and times; no "Change" button, no page load), keeping the field and the focus.
    zone = page.get_by_label("Times are shown in this time zone")
    offered = page.get_by_role("button", name="Use this device's time zone: America/New_York")
    expect(offered).to_be_visible()
    expect(page.get_by_role("button", name="Change", exact=True)).to_have_count(0)
    expect(page.locator('#time-zones option[value="Asia/Tokyo"]')).to_have_count(1)
    page.evaluate("window.stillTheSamePage = true")
    zone.fill("Tokyo")
    zone.press("Enter")
    expect(zone).to_have_value("Asia/Tokyo")
    expect(page).to_have_url(re.compile(r"tz=Asia%2FTokyo"))
    expect(page.get_by_text("We did not recognise that time zone")).to_have_count(0)
    call_in_tokyo = call_utc.astimezone(TOKYO)
    now_booked = page.locator("#zone-view p time").first
    expect(now_booked).to_have_text(f"{day_heading(call_in_tokyo.date())}, {call_in_tokyo:%H:%M}")
    expect(zone).to_be_focused()
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "change-time-zone-searched")
    # The device's zone, offered beside the field, applies the same way.
    offered.click()
    expect(zone).to_have_value("America/New_York")
    expect(page).to_have_url(re.compile(r"tz=America%2FNew_York"))
    expect(now_booked).to_have_text(f"{day_heading(call_day)}, 10:00")
    expect(offered).to_be_hidden()
    assert page.evaluate("window.stillTheSamePage") is True


def test_rep_sees_the_call_in_their_week_invites_and_subscribes(
    live_server: object, page: Page, screenshot: Screenshot, call_day: datetime.date
) -> None:
    call_utc = local_instant(call_day, datetime.time(14), LISBON)
    rep = UserFactory(
        role=Role.REP, email="rita@agency.example", full_name="Rita Rep", time_zone="Europe/Lisbon"
    )
    for weekday in range(5):
        WeeklyHours.objects.create(
            staff=rep, weekday=weekday, starts=datetime.time(9), ends=datetime.time(17)
        )
    pipeline = PipelineFactory()
    order: Order = OrderFactory(
        pipeline=pipeline, client=ContactFactory(name="Ana Baker"), owner=rep, stage="questionnaire-received"
    )
    call_type = BookingType.objects.create(name="Questionnaire review call", days_ahead=horizon_to(call_day))
    invitation, _token = services.invite_to_book(order, call_type, by=rep)
    services.book_slot(invitation, call_utc, client_time_zone="America/New_York")
    second: Order = OrderFactory(pipeline=pipeline, client=ContactFactory(name="Boris Client"), owner=rep)

    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill("rita@agency.example")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Calendar").click()
    monday = call_day - datetime.timedelta(days=call_day.weekday())
    page.goto(f"{live_server}/calendar/?week={monday.isoformat()}")
    day = page.get_by_role("region", name=day_heading(call_day))
    expect(day).to_contain_text("14:00\u201314:30")  # Lisbon wall clock
    expect(day).to_contain_text("Ana Baker")
    screenshot(page, "week")

    page.get_by_label("Order number").fill(second.reference)
    page.get_by_role("button", name="Send booking link").click()
    expect(page.get_by_role("status")).to_contain_text(f"Booking link for {second.reference}")

    page.get_by_role("button", name="Make my calendar address").click()
    feed_url = page.get_by_label("Calendar address").input_value()
    feed = page.request.get(feed_url)
    assert feed.ok
    event = icalendar.Calendar.from_ical(feed.body()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == call_utc

    page.get_by_role("link", name="My hours").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My hours for calls")
    screenshot(page, "hours")


def test_a_page_without_a_zone_shows_the_times_in_the_browsers_zone(
    live_server: object, browser: Browser, screenshot: Screenshot
) -> None:
    """Chromium set to Tokyo opens a link without ?tz=: the page asks Intl and shows Tokyo wall clock.

    The client's own zone on file is New York, so a page that did not detect the browser's zone
    would show New York times and fail.
    """
    rep = UserFactory(role=Role.REP, full_name="Rita Rep", time_zone="Europe/Lisbon")
    for weekday in range(5):
        WeeklyHours.objects.create(
            staff=rep, weekday=weekday, starts=datetime.time(9), ends=datetime.time(17)
        )
    client = ContactFactory(name="Kenji Client", time_zone="America/New_York")
    order: Order = OrderFactory(pipeline=PipelineFactory(), client=client, owner=rep)
    call_type = BookingType.objects.create(name="Questionnaire review call", days_ahead=30)
    _invitation, token = services.invite_to_book(order, call_type, by=rep)
    # A Monday, so the first call of the Tokyo day is the Lisbon morning, not the evening before.
    today = timezone.now().astimezone(LISBON).date()
    monday = today + datetime.timedelta(days=3 + (7 - (today + datetime.timedelta(days=3)).weekday()) % 7)
    first = local_instant(monday, datetime.time(9), LISBON).astimezone(TOKYO)
    assert first.date() == monday
    assert first.strftime("%H:%M") in {"17:00", "18:00"}  # Lisbon on summer or winter time

    context = browser.new_context(viewport=DESKTOP, timezone_id="Asia/Tokyo", locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        # The week opens on the Sunday before, a day without calls in Tokyo (Saturday afternoon in
        # Lisbon): it cannot be chosen, and the Monday, the first day with times, is chosen instead.
        sunday = monday - datetime.timedelta(days=1)
        page.goto(f"{live_server}/book/{token}/?from={sunday.isoformat()}")
        expect(page).to_have_url(re.compile(r"tz=Asia%2FTokyo"))
        expect(page.get_by_label("Times are shown in this time zone")).to_have_value("Asia/Tokyo")
        days = page.get_by_role("navigation", name="Choose a day")
        expect(days.get_by_role("link", name=day_heading(sunday))).to_be_disabled()
        expect(days.get_by_role("link", name=day_heading(monday))).to_have_attribute("aria-current", "true")
        tuesday = monday + datetime.timedelta(days=1)
        days.get_by_role("link", name=day_heading(tuesday)).click()
        expect(page.get_by_role("heading", level=2)).to_have_text(day_heading(tuesday))
        days.get_by_role("link", name=day_heading(monday)).click()
        day = page.get_by_role("region", name=day_heading(monday))
        first_link = day.get_by_role("link").first
        expect(first_link).to_have_text(first.strftime("%H:%M"))
        expect(first_link.locator("time")).to_have_attribute("datetime", first.isoformat())
        screenshot(page, "pick-a-time-tokyo")
    finally:
        context.close()


@pytest.fixture
def week_of_calls() -> tuple[str, datetime.date]:
    """A link to book a Lisbon rep's call (Monday to Friday, 09:00 to 17:00) and a Monday at least three
    days from today, so the whole week from it lies past the notice and inside the horizon."""
    rep = UserFactory(role=Role.REP, full_name="Rita Rep", time_zone="Europe/Lisbon")
    for weekday in range(5):
        WeeklyHours.objects.create(
            staff=rep, weekday=weekday, starts=datetime.time(9), ends=datetime.time(17)
        )
    client = ContactFactory(name="Ana Baker", time_zone="Europe/Lisbon")
    order: Order = OrderFactory(pipeline=PipelineFactory(), client=client, owner=rep)
    call_type = BookingType.objects.create(name="Questionnaire review call", days_ahead=30)
    _invitation, token = services.invite_to_book(order, call_type, by=rep)
    today = timezone.now().astimezone(LISBON).date()
    monday = today + datetime.timedelta(days=3 + (7 - (today + datetime.timedelta(days=3)).weekday()) % 7)
    return token, monday


@pytest.mark.parametrize("javascript", [False, True], ids=["without-javascript", "with-htmx"])
def test_a_day_is_chosen_with_the_keyboard_on_a_phone(
    live_server: object,
    browser: Browser,
    screenshot: Screenshot,
    week_of_calls: tuple[str, datetime.date],
    javascript: bool,
) -> None:
    """Tab to a day, press Enter: its times are listed under a heading naming it, the day is marked
    current and keeps the focus ring; the weekend is skipped by Tab. Without JavaScript the link loads
    the page; with it htmx swaps only the days and times, in place (the page is not reloaded)."""
    token, monday = week_of_calls
    tuesday, saturday = monday + datetime.timedelta(days=1), monday + datetime.timedelta(days=5)
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/book/{token}/?tz=Europe/Lisbon&from={monday.isoformat()}")
        # The whole week on a phone is about one screen, not the 2000 px of one column of every time.
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 1000, height
        days = page.get_by_role("navigation", name="Choose a day")
        expect(days.get_by_role("link", name=day_heading(monday))).to_have_attribute("aria-current", "true")
        if javascript:
            page.evaluate("window.notReloaded = true")
        days.get_by_role("link", name=day_heading(monday)).focus()
        page.keyboard.press("Tab")
        chosen = days.get_by_role("link", name=day_heading(tuesday))
        expect(chosen).to_be_focused()
        page.keyboard.press("Enter")

        expect(page).to_have_url(re.compile(f"day={tuesday.isoformat()}"))
        expect(page.get_by_role("heading", level=2)).to_have_text(day_heading(tuesday))
        expect(chosen).to_have_attribute("aria-current", "true")
        expect(days.get_by_role("link", name=day_heading(monday))).not_to_have_attribute(
            "aria-current", "true"
        )
        times = page.get_by_role("region", name=day_heading(tuesday))
        expect(times.get_by_role("link").first).to_have_text("09:00")
        if javascript:
            assert page.evaluate("window.notReloaded === true")
            expect(chosen).to_be_focused()  # htmx gives the focus back to the day just pressed
            assert chosen.evaluate("node => getComputedStyle(node).boxShadow") != "none"
        expect(days.get_by_role("link", name=day_heading(saturday))).to_be_disabled()
        days.get_by_role("link", name=day_heading(saturday - datetime.timedelta(days=1))).focus()
        page.keyboard.press("Tab")  # past Saturday and Sunday, to the first time
        expect(times.get_by_role("link").first).to_be_focused()
        screenshot(page, "keyboard-day")
    finally:
        context.close()


def test_a_call_inside_its_change_limit_shows_whom_to_contact(
    live_server: object, page: Page, screenshot: Screenshot
) -> None:
    """Reschedule is gone once the call is inside the limit; asking for it anyway explains and names the rep."""
    rep = UserFactory(
        role=Role.REP, email="rita@agency.example", full_name="Rita Rep", time_zone="Europe/Lisbon"
    )
    for weekday in range(5):
        WeeklyHours.objects.create(
            staff=rep, weekday=weekday, starts=datetime.time(9), ends=datetime.time(17)
        )
    order: Order = OrderFactory(
        pipeline=PipelineFactory(), client=ContactFactory(name="Ana Baker"), owner=rep
    )
    # Changes allowed until 60 days before: any call booked within the next month is already too late.
    call_type = BookingType.objects.create(name="Questionnaire review call", change_until_hours=24 * 60)
    invitation, token = services.invite_to_book(order, call_type, by=rep)
    day = timezone.now().astimezone(LISBON).date() + datetime.timedelta(days=3)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    services.book_slot(
        invitation, local_instant(day, datetime.time(11), LISBON), client_time_zone="Europe/Lisbon"
    )

    page.goto(f"{live_server}/book/{token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your call is booked")
    expect(page.get_by_role("link", name="Reschedule")).to_have_count(0)
    expect(page.get_by_role("link", name="rita@agency.example")).to_be_visible()
    page.goto(f"{live_server}/book/{token}/cancel/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Too late to change the call here")
    expect(page.get_by_role("alert")).to_contain_text("less than 1440 hours away")
    expect(page.locator("#contact-staff")).to_contain_text("please contact Rita Rep")
    screenshot(page, "too-late")
    page.get_by_role("link", name="Back to your call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your call is booked")


def test_a_manager_sets_up_a_round_robin_call_and_a_bad_value_is_explained(
    live_server: object, page: Page, screenshot: Screenshot
) -> None:
    UserFactory(role=Role.MANAGER, email="mara@agency.example", full_name="Mara Manager")
    UserFactory(role=Role.REP, full_name="Rita Rep")
    UserFactory(role=Role.REP, full_name="Bruno Rep")
    PipelineFactory()
    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill("mara@agency.example")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Booking types")
    expect(page.get_by_text("No booking types yet")).to_be_visible()
    page.get_by_role("link", name="New booking type").first.click()

    page.get_by_label("Name").fill("Questionnaire review call")
    page.get_by_label("Duration (minutes)").fill("0")
    page.get_by_label("Round-robin among a group (least booked first)").check()
    page.get_by_label("Rita Rep").check()
    page.get_by_label("Bruno Rep").check()
    page.get_by_label("After booking, move the order to").select_option("followup-call-scheduled")
    page.get_by_role("button", name="Create booking type").click()
    expect(page.get_by_text("A call lasts from 5 to 480 minutes.")).to_be_visible()
    expect(page.get_by_label("Rita Rep")).to_be_checked()  # the rest of the input is kept
    screenshot(page, "booking-type-refused")
    assert not BookingType.objects.exists()

    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_role("button", name="Create booking type").click()
    table = page.get_by_test_id("booking-type-table")
    expect(table).to_contain_text("Questionnaire review call")
    expect(table).to_contain_text("45 minutes")
    expect(table).to_contain_text("Round-robin: Bruno Rep, Rita Rep")
    screenshot(page, "booking-types")
    page.get_by_role("button", name="Deactivate Questionnaire review call").click()
    expect(table).to_contain_text("Inactive")
    assert not BookingType.objects.get().is_active
