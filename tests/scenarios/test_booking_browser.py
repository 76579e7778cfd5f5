"""Issue 8 end to end: a client in New York books a call with a rep in Lisbon from the e-mailed link.

The week of 15 March 2027 is the one in which only New York has changed its clocks (US summer time
from 14 March, EU from 28 March), so the gap is four hours instead of five: the page, the e-mailed
.ics and the database must all name the same instant. Real live server, Chromium set to
America/New_York, SMTP server; the dates lie ahead of the real clock, so nothing needs freezing.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
from playwright.sync_api import Browser, Page, expect

from orderflow.accounts.roles import Role
from orderflow.pipelines.models import Order
from orderflow.scheduling import services
from orderflow.scheduling.models import Booking, BookingType, WeeklyHours
from tests.factories import TEST_PASSWORD, ContactFactory, OrderFactory, PipelineFactory, UserFactory
from tests.fixtures.browser import DESKTOP, Screenshot
from tests.fixtures.smtp import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CALL_UTC = datetime.datetime(2027, 3, 16, 14, 0, tzinfo=datetime.UTC)  # 10:00 New York, 14:00 Lisbon


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
) -> None:
    page = new_york_page
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
        days_ahead=400,
        stage_key="followup-call-scheduled",
    )
    _invitation, token = services.invite_to_book(order, call_type, by=rep)

    # No zone in the link: the page asks the browser (Intl) and shows New York time.
    page.goto(f"{live_server}/book/{token}/?from=2027-03-15")
    expect(page).to_have_url(re.compile(r"tz=America%2FNew_York"))
    expect(page.get_by_label("Times are shown in this time zone")).to_have_value("America/New_York")
    screenshot(page, "pick-a-time")
    tuesday = page.locator(".slot-days > li", has=page.get_by_role("heading", name="Tuesday 16 March"))
    expect(tuesday.get_by_role("link").first).to_have_text("05:00")  # 09:00 in Lisbon
    tuesday.get_by_role("link", name="10:00", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your call")
    expect(page.locator("#chosen-time")).to_have_text("Tuesday 16 March 2027, 10:00 \u2013 10:30")
    expect(page.get_by_text("For Rita that is 14:00 (Europe/Lisbon).")).to_be_visible()
    screenshot(page, "confirm")
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your call is booked")
    expect(page.locator("#booked-time")).to_have_text("Tuesday 16 March 2027, 10:00 \u2013 10:30")
    screenshot(page, "booked")
    # The instant on the page, read by the browser itself, is the booked one, shown at 10:00 in its zone.
    shown = page.locator("#booked-time time").evaluate(
        "node => new Date(node.getAttribute('datetime')).toISOString()"
    )
    assert shown == "2027-03-16T14:00:00.000Z"
    local = page.locator("#booked-time time").evaluate(
        "node => new Date(node.getAttribute('datetime')).toLocaleTimeString('en-GB', {hour: '2-digit', minute: '2-digit'})"
    )
    assert local == "10:00"

    booking = Booking.objects.get()
    assert booking.starts_at == CALL_UTC
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
        assert event.decoded("dtstart") == CALL_UTC
        assert event.decoded("dtend") == CALL_UTC + datetime.timedelta(minutes=30)
        attendees = event["attendee"]
        assert isinstance(attendees, list)
        assert sorted(str(a) for a in attendees) == [
            "mailto:ana@bakery.example",
            "mailto:rita@agency.example",
        ]

    # Nonsense in the zone falls back to the organisation's (UTC here), and says so.
    page.goto(f"{live_server}/book/{token}/?change=1&tz=Mars/Olympus_Mons&from=2027-03-15")
    expect(page.get_by_text("We did not recognise that time zone")).to_be_visible()
    expect(page.get_by_label("Times are shown in this time zone")).to_have_value("UTC")
    screenshot(page, "change-time-unknown-zone")


def test_rep_sees_the_call_in_their_week_invites_and_subscribes(
    live_server: object, page: Page, screenshot: Screenshot
) -> None:
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
    call_type = BookingType.objects.create(name="Questionnaire review call", days_ahead=400)
    invitation, _token = services.invite_to_book(order, call_type, by=rep)
    services.book_slot(invitation, CALL_UTC, client_time_zone="America/New_York")
    second: Order = OrderFactory(pipeline=pipeline, client=ContactFactory(name="Boris Client"), owner=rep)

    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill("rita@agency.example")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Calendar").click()
    page.goto(f"{live_server}/calendar/?week=2027-03-15")
    tuesday = page.get_by_role("region", name="Tuesday 16 March")
    expect(tuesday).to_contain_text("14:00\u201314:30")  # Lisbon wall clock (WET)
    expect(tuesday).to_contain_text("Ana Baker")
    screenshot(page, "week")

    page.get_by_label("Order number").fill(second.reference)
    page.get_by_role("button", name="Send booking link").click()
    expect(page.get_by_role("status")).to_contain_text(f"Booking link for {second.reference}")

    page.get_by_role("button", name="Make my calendar address").click()
    feed_url = page.get_by_label("Calendar address").input_value()
    feed = page.request.get(feed_url)
    assert feed.ok
    event = icalendar.Calendar.from_ical(feed.body()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == CALL_UTC

    page.get_by_role("link", name="My hours").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My hours for calls")
    screenshot(page, "hours")
