"""The client's booking pages and the staff calendar: happy path, refusals, zones, feeds, query counts."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urlsplit

import icalendar
import pytest
import time_machine
from django.urls import reverse

from orderflow.accounts.models import Organisation
from orderflow.accounts.roles import Role
from orderflow.scheduling import services
from orderflow.scheduling.models import Booking, TimeOff
from orderflow.scheduling.tests.conftest import NOW, add_office_hours, at
from tests.factories import TEST_PASSWORD, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

SLOT = "2027-03-16T14:00:00+00:00"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def token(invitation) -> str:
    return services.invitation_token(invitation)


def page(client, token: str, **params: str):
    query = "&".join(f"{key}={quote(value)}" for key, value in params.items())
    return client.get(reverse("scheduling:book", args=[token]) + ("?" + query if query else ""))


def test_the_booking_page_shows_free_times_in_the_clients_zone(client, token, frozen):
    response = page(client, token, tz="America/New_York", **{"from": "2027-03-16"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tuesday 16 March" in html
    # 09:00 in Lisbon (WET) is 05:00 in New York (EDT, since 14 March).
    assert ">05:00<" in html
    assert "2027-03-16T05:00:00-04:00" in html


def test_a_nonsense_zone_falls_back_to_the_organisations(client, token, frozen):
    organisation = Organisation.current()
    organisation.time_zone = "Europe/Lisbon"
    organisation.save()
    response = page(client, token, tz="Mars/Olympus_Mons", **{"from": "2027-03-16"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "did not recognise that time zone" in html
    assert ">09:00<" in html
    assert 'name="tz" value="Europe/Lisbon"' in html


def test_a_city_typed_alone_is_its_zone_without_javascript(client, token, frozen):
    """The zone field sent by its own button, as typed: "tokyo" is Asia/Tokyo (the script completes
    it in the browser); a name several zones share is not guessed."""
    html = page(client, token, tz="tokyo", **{"from": "2027-03-16"}).content.decode()
    assert "did not recognise that time zone" not in html
    assert 'name="tz" value="Asia/Tokyo"' in html
    assert "2027-03-16T18:00:00+09:00" in html  # 09:00 in Lisbon
    shared = page(client, token, tz="Indianapolis", **{"from": "2027-03-16"}).content.decode()
    assert "did not recognise that time zone" in shared


def test_confirming_a_time_books_it_and_shows_it_with_reschedule_and_cancel(
    client, token, invitation, frozen
):
    confirm = reverse("scheduling:book-confirm", args=[token])
    shown = client.get(confirm, {"start": "2027-03-16T10:00:00-04:00", "tz": "America/New_York"})
    assert shown.status_code == 200
    assert "For Rita that is 14:00 (Europe/Lisbon)" in shown.content.decode()
    response = client.post(confirm, {"start": SLOT, "tz": "America/New_York"})
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.starts_at == at(SLOT)
    assert booking.client_time_zone == "America/New_York"
    done = client.get(response["Location"]).content.decode()
    assert "Your call is booked" in done
    assert "10:00 \u2013 10:30" in done
    assert "Reschedule" in done
    assert "Cancel the call" in done
    ics = client.get(reverse("scheduling:book-ics", args=[token]))
    event = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == booking.starts_at


def test_a_taken_time_gets_the_friendly_refusal_and_fresh_times(client, token, order, call_type, frozen):
    other_order = OrderFactory(pipeline=order.pipeline, client=order.client, owner=order.owner)
    other, _token = services.invite_to_book(other_order, call_type, by=None, now=NOW)
    services.book_slot(other, at(SLOT), client_time_zone="UTC", now=NOW)
    response = client.post(
        reverse("scheduling:book-confirm", args=[token]), {"start": SLOT, "tz": "America/New_York"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "this time was just taken" in html
    assert "2027-03-16T09:30:00-04:00" in html  # the next free time, offered at once
    assert "2027-03-16T10:00:00-04:00" not in html
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2027-03-09T14:00:00+00:00", "already passed"),
        ("2027-03-10T13:00:00+00:00", "too soon"),
        ("2027-03-16T22:00:00+00:00", "not offered"),
        ("not-a-time", "Please pick one of the times shown"),
        ("2027-03-16T14:00:00", "Please pick one of the times shown"),
    ],
)
def test_bad_times_are_refused_with_a_message_and_fresh_slots(client, token, frozen, start, message):
    response = client.post(reverse("scheduling:book-confirm", args=[token]), {"start": start, "tz": "UTC"})
    assert response.status_code in {400, 409}
    html = response.content.decode()
    assert message in html
    assert "slot-list" in html
    assert not Booking.objects.exists()


def test_expired_revoked_and_unknown_links_show_a_clear_page(client, invitation, token):
    with time_machine.travel(NOW + datetime.timedelta(days=31), tick=False):
        expired = page(client, token)
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()
    services.revoke_invitation(invitation, now=NOW)
    with time_machine.travel(NOW, tick=False):
        revoked = page(client, token)
        unknown = page(client, "x" * 43)
    assert revoked.status_code == 410
    assert "withdrawn" in revoked.content.decode()
    assert unknown.status_code == 410
    assert "not valid" in unknown.content.decode()


def test_client_reschedules_and_cancels_through_the_link(client, token, invitation, frozen):
    booking = services.book_slot(invitation, at(SLOT), client_time_zone="America/New_York", now=NOW)
    change = page(client, token, tz="America/New_York", change="1", **{"from": "2027-03-17"})
    assert "Pick a new time" in change.content.decode()
    moved = client.post(
        reverse("scheduling:book-confirm", args=[token]),
        {"start": "2027-03-17T15:00:00+00:00", "tz": "America/New_York"},
    )
    assert moved.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == at("2027-03-17T15:00+00:00")
    assert booking.sequence == 1
    cancelled = client.post(reverse("scheduling:book-cancel", args=[token]), {"tz": "America/New_York"})
    assert cancelled.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    again = client.get(cancelled["Location"]).content.decode()
    assert "Your call is cancelled" in again
    assert "Pick a time for your call" in again


def test_inside_the_change_limit_the_client_sees_no_change_links(client, token, invitation):
    services.book_slot(invitation, at(SLOT), client_time_zone="UTC", now=NOW)
    with time_machine.travel(at(SLOT) - datetime.timedelta(hours=2), tick=False):
        html = page(client, token).content.decode()
    assert "can no longer be changed here" in html
    assert "Cancel the call" not in html


def test_staff_week_calendar_shows_their_calls_in_their_zone(
    client, lisbon_rep, order, call_type, django_assert_num_queries
):
    client.login(email=lisbon_rep.email, password=TEST_PASSWORD)
    url = reverse("scheduling:staff-calendar") + "?week=2027-03-15"

    def book_one(start: str) -> None:
        extra = OrderFactory(pipeline=order.pipeline, client=order.client, owner=lisbon_rep)
        invitation, _token = services.invite_to_book(extra, call_type, by=None, now=NOW)
        services.book_slot(invitation, at(start), client_time_zone="UTC", now=NOW)

    book_one("2027-03-16T14:00+00:00")
    response = client.get(url)
    assert response.status_code == 200
    assert "14:00\u201314:30" in response.content.decode()
    with django_assert_num_queries(_count_queries(client, url)) as few:
        client.get(url)
    for hour in range(9, 13):
        book_one(f"2027-03-17T{hour:02d}:00+00:00")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)


def _count_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        client.get(url)
    return len(context.captured_queries)


def test_feed_is_private_and_lists_the_staff_members_calls(client, lisbon_rep, invitation, frozen):
    booking = services.book_slot(invitation, at(SLOT), client_time_zone="UTC", now=NOW)
    token = services.create_calendar_feed(lisbon_rep)
    response = client.get(reverse("scheduling:feed", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert [event.decoded("dtstart") for event in events] == [booking.starts_at]
    assert client.get(reverse("scheduling:feed", args=["wrong" * 9])).status_code == 404
    services.create_calendar_feed(lisbon_rep)
    assert client.get(reverse("scheduling:feed", args=[token])).status_code == 404  # replaced


def test_staff_invite_a_client_and_the_link_is_emailed(client, lisbon_rep, order, call_type, mailoutbox):
    client.login(email=lisbon_rep.email, password=TEST_PASSWORD)
    response = client.post(
        reverse("scheduling:invite"), {"order": order.reference, "booking_type": call_type.pk}, follow=True
    )
    assert "/book/" in response.content.decode()
    assert order.booking_invitations.count() == 1
    refused = client.post(
        reverse("scheduling:invite"), {"order": "NOPE-1", "booking_type": call_type.pk}, follow=True
    )
    assert "No order has the number NOPE-1" in refused.content.decode()


def test_staff_edit_their_hours(client, lisbon_rep):
    client.login(email=lisbon_rep.email, password=TEST_PASSWORD)
    url = reverse("scheduling:availability")
    assert client.get(url).status_code == 200
    before = lisbon_rep.weekly_hours.count()
    response = client.post(
        url, {"kind": "hours", "hours-weekday": "5", "hours-starts": "10:00", "hours-ends": "12:00"}
    )
    assert response.status_code == 302
    assert lisbon_rep.weekly_hours.count() == before + 1
    refused = client.post(
        url, {"kind": "hours", "hours-weekday": "5", "hours-starts": "12:00", "hours-ends": "10:00"}
    )
    assert refused.status_code == 200
    assert "The end must be after the start." in refused.content.decode()
    client.post(
        url, {"kind": "override", "override-date": "2027-03-16", "override-starts": "", "override-ends": ""}
    )
    assert lisbon_rep.date_overrides.get().starts is None


def _count_page_queries(client, url: str, **headers: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        assert client.get(url, headers=headers).status_code == 200
    return len(context.captured_queries)


def test_booking_page_queries_do_not_grow_with_bookings_or_free_times(
    client, token, order, call_type, lisbon_rep, frozen
):
    week = reverse("scheduling:book", args=[token]) + "?tz=America/New_York&from=2027-03-15"
    urls = [week, week + "&day=2027-03-16"]
    picker = {"HX-Request": "true", "HX-Target": "slot-picker"}
    # One free time in the week (Tuesday 14:00 UTC), everything else taken by time off.
    TimeOff.objects.create(staff=lisbon_rep, starts_at=at("2027-03-15T00:00+00:00"), ends_at=at(SLOT))
    TimeOff.objects.create(
        staff=lisbon_rep, starts_at=at("2027-03-16T14:30+00:00"), ends_at=at("2027-03-22T12:00+00:00")
    )
    assert _times(client.get(week)) == ["2027-03-16T10:00:00-04:00"]
    one_slot = [_count_page_queries(client, url) for url in urls]
    one_slot_picker = _count_page_queries(client, urls[1], **picker)
    TimeOff.objects.all().delete()
    for hour in range(9, 15):
        extra = OrderFactory(pipeline=order.pipeline, client=order.client, owner=order.owner)
        other, _token = services.invite_to_book(extra, call_type, by=None, now=NOW)
        services.book_slot(other, at(f"2027-03-17T{hour:02d}:00+00:00"), client_time_zone="UTC", now=NOW)
    assert len(_times(client.get(week))) > 10
    assert [_count_page_queries(client, url) for url in urls] == one_slot
    assert _count_page_queries(client, urls[1], **picker) == one_slot_picker
    assert one_slot[0] == one_slot[1]


# --- Pick a time: the week's days, then the chosen day's times ----------------------------------------


class _PickerParser(HTMLParser):
    """Reads a "pick a time" page: the day strip's entries, the chosen day's heading and its times."""

    def __init__(self) -> None:
        super().__init__()
        self.days: list[dict[str, str]] = []
        self.heading = ""
        self.times: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        classes = found.get("class", "").split()
        if tag == "a" and "day" in classes:
            self.days.append({**found, "name": ""})
            self._in.append("day")
        elif tag == "span" and "visually-hidden" in classes and self._in[-1:] == ["day"]:
            self._in.append("day-name")
        elif tag == "h2" and found.get("id") == "chosen-day":
            self._in.append("heading")
        elif tag == "ul" and "slot-list" in classes:
            self._in.append("times")
        elif tag == "time" and "times" in self._in:
            self.times.append(found["datetime"])

    def handle_endtag(self, tag: str) -> None:
        ends = {"a": "day", "span": "day-name", "h2": "heading", "ul": "times"}
        if self._in and ends.get(tag) == self._in[-1]:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in[-1:] == ["day-name"]:
            self.days[-1]["name"] += data
        elif self._in[-1:] == ["heading"]:
            self.heading += data.strip()


def _picker(response) -> _PickerParser:
    parser = _PickerParser()
    parser.feed(response.content.decode())
    return parser


def _times(response) -> list[str]:
    return _picker(response).times


def _query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def test_the_week_shows_every_day_and_only_the_first_free_days_times(client, token, frozen):
    shown = _picker(page(client, token, tz="America/New_York", **{"from": "2027-03-13"}))
    assert [day["name"] for day in shown.days] == [
        "Saturday 13 March, no free times",
        "Sunday 14 March, no free times",
        "Monday 15 March",
        "Tuesday 16 March",
        "Wednesday 17 March",
        "Thursday 18 March",
        "Friday 19 March",
    ]
    # Days without times are not links: no address, nothing to focus, marked disabled.
    assert [("href" in day, day.get("aria-disabled")) for day in shown.days[:3]] == [
        (False, "true"),
        (False, "true"),
        (True, None),
    ]
    assert [day["name"] for day in shown.days if day.get("aria-current") == "true"] == ["Monday 15 March"]
    assert shown.heading == "Monday 15 March"
    assert shown.times[0] == "2027-03-15T05:00:00-04:00"  # 09:00 in Lisbon
    assert all(time.startswith("2027-03-15T") for time in shown.times)
    assert len(shown.times) == 16


def test_a_day_link_keeps_the_zone_the_week_and_the_change_and_shows_that_days_times(
    client, token, invitation, frozen
):
    services.book_slot(invitation, at(SLOT), client_time_zone="America/New_York", now=NOW)
    first = _picker(page(client, token, tz="America/New_York", change="1", **{"from": "2027-03-15"}))
    wednesday = next(day for day in first.days if day["name"] == "Wednesday 17 March")
    assert _query(wednesday["href"]) == {
        "tz": ["America/New_York"],
        "change": ["1"],
        "from": ["2027-03-15"],
        "day": ["2027-03-17"],
    }
    assert urlsplit(wednesday["href"]).path == reverse("scheduling:book", args=[token])
    chosen = _picker(client.get(wednesday["href"]))
    assert chosen.heading == "Wednesday 17 March"
    assert [day["name"] for day in chosen.days if day.get("aria-current") == "true"] == ["Wednesday 17 March"]
    assert chosen.times
    assert all(time.startswith("2027-03-17T") for time in chosen.times)
    assert next(day["name"] for day in chosen.days) == "Monday 15 March"  # the same week


def test_a_day_without_times_cannot_be_chosen(client, token, lisbon_rep, frozen):
    # Tuesday off: Monday and Wednesday have times, Tuesday and the weekend do not.
    TimeOff.objects.create(
        staff=lisbon_rep, starts_at=at("2027-03-16T00:00+00:00"), ends_at=at("2027-03-17T00:00+00:00")
    )
    for day, name in (("2027-03-16", "Tuesday 16 March"), ("2027-03-20", "Saturday 20 March")):
        shown = _picker(page(client, token, tz="Europe/Lisbon", day=day, **{"from": "2027-03-15"}))
        entry = next(entry for entry in shown.days if entry["name"].startswith(name))
        assert entry["name"] == f"{name}, no free times"
        assert entry["aria-disabled"] == "true"
        assert "href" not in entry
        assert "hx-get" not in entry
        assert "aria-current" not in entry
        assert shown.heading == "Monday 15 March"
        assert shown.times
        assert all(time.startswith("2027-03-15T") for time in shown.times)


@pytest.mark.parametrize(
    "day",
    [
        "nonsense",
        "2027-02-30",
        "",
        "2027-03-09",  # yesterday
        "2027-03-22",  # a free Monday, but not in the week asked for
        "2099-03-16",  # beyond the booking horizon
    ],
)
def test_a_nonsense_or_out_of_range_day_falls_back_to_the_first_day_with_times(client, token, frozen, day):
    response = page(client, token, tz="America/New_York", day=day, **{"from": "2027-03-13"})
    assert response.status_code == 200
    shown = _picker(response)
    assert shown.heading == "Monday 15 March"
    assert [entry["name"] for entry in shown.days if entry.get("aria-current")] == ["Monday 15 March"]
    assert shown.times[0] == "2027-03-15T05:00:00-04:00"


def test_a_day_without_a_week_opens_the_week_that_holds_it(client, token, frozen):
    # Weeks step by seven days from the first free day (Wednesday 10 March): the 24th opens the third.
    shown = _picker(page(client, token, tz="America/New_York", day="2027-03-24"))
    assert shown.heading == "Wednesday 24 March"
    assert shown.days[0]["name"] == "Wednesday 24 March"
    assert all(time.startswith("2027-03-24T") for time in shown.times)
    beyond = _picker(page(client, token, tz="America/New_York", day="2027-12-24"))  # horizon: 200 days
    assert beyond.heading == "Wednesday 10 March"


def test_pick_another_time_goes_back_to_the_picked_day(client, token, frozen):
    confirm = client.get(
        reverse("scheduling:book-confirm", args=[token]),
        {"start": "2027-03-24T14:00:00+00:00", "tz": "America/New_York"},
    )
    back = re.search(r'href="([^"]+)">Pick another time<', confirm.content.decode())
    assert back is not None
    assert _picker(client.get(back.group(1).replace("&amp;", "&"))).heading == "Wednesday 24 March"


def test_a_refused_time_shows_fresh_times_of_its_own_day_in_a_later_week(
    client, token, order, call_type, frozen
):
    taken = "2027-03-23T14:00:00+00:00"
    other, _token = services.invite_to_book(
        OrderFactory(pipeline=order.pipeline, client=order.client, owner=order.owner),
        call_type,
        by=None,
        now=NOW,
    )
    services.book_slot(other, at(taken), client_time_zone="UTC", now=NOW)
    response = client.post(
        reverse("scheduling:book-confirm", args=[token]), {"start": taken, "tz": "America/New_York"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert html.index("this time was just taken") < html.index('id="chosen-day"')
    shown = _picker(response)
    assert shown.heading == "Tuesday 23 March"
    assert shown.days[0]["name"] == "Wednesday 17 March"  # the Later step that holds the 23rd
    assert "2027-03-23T09:30:00-04:00" in shown.times
    assert "2027-03-23T10:00:00-04:00" not in shown.times
    assert all(time.startswith("2027-03-23T") for time in shown.times)


def test_after_a_refusal_days_weeks_and_the_zone_lead_back_to_the_booking_page(client, token, frozen):
    """The refusal answers a POST to /confirm/: links relative to it would open the confirm page."""
    response = client.post(
        reverse("scheduling:book-confirm", args=[token]),
        {"start": "2027-03-16T22:00:00+00:00", "tz": "America/New_York"},
    )
    assert response.status_code == 409
    book = reverse("scheduling:book", args=[token])
    html = response.content.decode()
    assert f'<form class="zone-form" id="zone-form" method="get" action="{book}" hx-get="{book}"' in html
    assert f'href="{book}?tz=America%2FNew_York&amp;from=2027-03-17"' in html  # Later
    links = [day["href"] for day in _picker(response).days if "href" in day]
    assert links
    assert all(link.startswith(book + "?") for link in links)
    chosen = client.get(links[-1])
    assert chosen.status_code == 200
    assert _picker(chosen).heading == "Tuesday 16 March"


def test_htmx_asks_for_the_picker_alone(client, token, frozen):
    url = reverse("scheduling:book", args=[token]) + "?tz=America/New_York&from=2027-03-15&day=2027-03-18"
    swapped = client.get(url, headers={"HX-Request": "true", "HX-Target": "slot-picker"})
    assert swapped.status_code == 200
    assert swapped["Cache-Control"] == "no-store"
    html = swapped.content.decode()
    assert "<html" not in html
    assert 'name="tz"' not in html
    assert _picker(swapped).heading == "Thursday 18 March"
    # htmx restoring history (no target) and plain browsers get the whole page.
    restored = client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.content.decode()
    assert _picker(restored).heading == "Thursday 18 March"


def test_the_zone_form_keeps_the_week_and_the_day(client, token, frozen):
    html = page(
        client, token, tz="America/New_York", day="2027-03-18", **{"from": "2027-03-15"}
    ).content.decode()
    # The week and day are the picker's (swapped with the day) but belong to the zone form.
    assert '<input type="hidden" name="from" value="2027-03-15" form="zone-form">' in html
    assert '<input type="hidden" name="day" value="2027-03-18" form="zone-form">' in html
    form = html[
        html.index('<form class="zone-form"') : html.index("</form>", html.index('<form class="zone-form"'))
    ]
    # Without JavaScript: a text field with the browser's suggestions and a button that sends it.
    assert 'name="tz" value="America/New_York"' in form
    assert 'list="time-zones"' in form
    assert '<option value="Asia/Tokyo">' in form
    assert '<button class="button" type="submit" data-zone-apply>Change</button>' in form


# --- A booked call outlives the invitation that led to it ------------------------------------------

DAY = datetime.timedelta(days=1)
# Invited on NOW (the link to book is valid 30 days), booked on day 25 for a call on day 47.
CALL_ON_DAY_47 = "2027-04-26T13:00:00+00:00"  # Monday, 14:00 in Lisbon (WEST)


def _book_on_day_25(client, token: str) -> Booking:
    with time_machine.travel(NOW + 25 * DAY, tick=False):
        response = client.post(
            reverse("scheduling:book-confirm", args=[token]),
            {"start": CALL_ON_DAY_47, "tz": "America/New_York"},
        )
    assert response.status_code == 302
    return Booking.objects.get()


def test_a_booked_call_can_be_moved_and_cancelled_after_the_invitation_expired(client, token, invitation):
    booking = _book_on_day_25(client, token)
    assert invitation.expires_at < NOW + 35 * DAY < booking.starts_at
    with time_machine.travel(NOW + 35 * DAY, tick=False):
        shown = page(client, token, tz="America/New_York")
        assert shown.status_code == 200
        html = shown.content.decode()
        assert "Your call is booked" in html
        assert "Monday 26 April 2027, 09:00" in html
        assert "Reschedule" in html
        assert "Cancel the call" in html
        assert client.get(reverse("scheduling:book-ics", args=[token])).status_code == 200
        change = page(client, token, tz="America/New_York", change="1", **{"from": "2027-04-26"})
        assert change.status_code == 200
        assert "Pick a new time" in change.content.decode()
        moved = client.post(
            reverse("scheduling:book-confirm", args=[token]),
            {"start": "2027-04-27T13:00:00+00:00", "tz": "America/New_York"},
        )
        assert moved.status_code == 302
        booking.refresh_from_db()
        assert booking.starts_at == at("2027-04-27T13:00+00:00")
        cancelled = client.post(reverse("scheduling:book-cancel", args=[token]), {"tz": "America/New_York"})
        assert cancelled.status_code == 302
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        # Cancelled, the link is back to what it was: an invitation to book, and that has expired.
        after = client.get(cancelled["Location"])
    assert after.status_code == 410
    html = after.content.decode()
    assert "Your call is cancelled." in html
    assert "book another time" not in html
    assert "This booking link has expired." in html


def test_inside_the_change_limit_every_way_to_change_says_too_late_and_whom_to_contact(
    client, token, invitation
):
    booking = _book_on_day_25(client, token)
    confirm = reverse("scheduling:book-confirm", args=[token])
    cancel = reverse("scheduling:book-cancel", args=[token])
    with time_machine.travel(booking.starts_at - datetime.timedelta(hours=23), tick=False):
        done = page(client, token).content.decode()
        assert "can no longer be changed here" in done
        assert "Reschedule" not in done
        assert 'href="mailto:rita@example.com"' in done
        pages = [
            page(client, token, change="1", tz="America/New_York"),
            client.get(cancel, {"tz": "America/New_York"}),
            client.get(confirm, {"start": "2027-04-27T13:00:00+00:00", "tz": "America/New_York"}),
        ]
        refusals = [
            client.post(cancel, {"tz": "America/New_York"}),
            client.post(confirm, {"start": "2027-04-27T13:00:00+00:00", "tz": "America/New_York"}),
        ]
    for response in pages + refusals:
        html = response.content.decode()
        assert "Too late to change the call here" in html
        assert "less than 24 hours away" in html
        assert "please contact Rita Rep" in html
        assert 'href="mailto:rita@example.com"' in html
        assert "Monday 26 April 2027, 09:00" in html  # the call, in the client's zone
        assert "slot-list" not in html
    assert [response.status_code for response in pages] == [200, 200, 200]
    assert [response.status_code for response in refusals] == [409, 409]
    booking.refresh_from_db()
    assert booking.is_confirmed
    assert booking.starts_at == at(CALL_ON_DAY_47)
    assert booking.sequence == 0


def test_once_the_call_is_over_the_expired_link_closes(client, token, invitation):
    booking = _book_on_day_25(client, token)
    with time_machine.travel(booking.ends_at, tick=False):
        response = page(client, token)
    assert response.status_code == 410
    assert "This booking link has expired." in response.content.decode()


def test_a_revoked_link_closes_even_with_a_call_ahead(client, token, invitation):
    _book_on_day_25(client, token)
    services.revoke_invitation(invitation, now=NOW + 26 * DAY)
    with time_machine.travel(NOW + 27 * DAY, tick=False):
        response = page(client, token)
        cancel = client.post(reverse("scheduling:book-cancel", args=[token]), {"tz": "UTC"})
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert cancel.status_code == 410
    assert Booking.objects.get().is_confirmed


# --- Refusals in the client's language --------------------------------------------------------------


def test_a_portuguese_client_is_told_in_portuguese_that_the_time_was_just_taken(
    client, token, order, call_type, frozen
):
    order.client.language = "pt"
    order.client.save()
    other_order = OrderFactory(pipeline=order.pipeline, client=order.client, owner=order.owner)
    other, _token = services.invite_to_book(other_order, call_type, by=None, now=NOW)
    services.book_slot(other, at(SLOT), client_time_zone="UTC", now=NOW)
    response = client.post(
        reverse("scheduling:book-confirm", args=[token]),
        {"start": SLOT, "tz": "America/New_York"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert '<html lang="pt">' in html
    assert "Lamentamos, esta hora acabou de ser reservada. Estas são as horas ainda livres." in html
    assert "just taken" not in html


def test_a_russian_client_is_told_in_russian_that_the_time_is_too_soon(client, token, order, frozen):
    order.client.language = "ru"
    order.client.save()
    response = client.post(
        reverse("scheduling:book-confirm", args=[token]),
        {"start": "2027-03-10T13:00:00+00:00", "tz": "UTC"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "Это время слишком близко: выберите время не раньше чем через 4 ч." in html
    assert "too soon" not in html


def test_expired_links_and_late_changes_are_refused_in_the_clients_language(client, token, order):
    order.client.language = "pt"
    order.client.save()
    booking = _book_on_day_25(client, token)
    with time_machine.travel(booking.starts_at - datetime.timedelta(hours=2), tick=False):
        late = client.post(reverse("scheduling:book-cancel", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    assert late.status_code == 409
    assert "Faltam menos de 24 horas para a chamada" in late.content.decode()
    order.client.language = "ru"
    order.client.save()
    with time_machine.travel(booking.ends_at, tick=False):
        expired = page(client, token)
    assert expired.status_code == 410
    assert "Срок действия этой ссылки для записи истёк." in expired.content.decode()


# --- Time off ----------------------------------------------------------------------------------------


def test_staff_add_time_off_in_their_own_zone_and_it_blocks_those_times(client, call_type, frozen):

    rep = UserFactory(role=Role.REP, email="nina@example.com", time_zone="America/New_York")
    add_office_hours(rep)
    client.login(email=rep.email, password=TEST_PASSWORD)
    url = reverse("scheduling:availability")
    assert services.check_slot(call_type, [rep], at(SLOT), now=NOW)  # 10:00 in New York: free
    response = client.post(
        url,
        {
            "kind": "time-off",
            "time-off-starts_at": "2027-03-16T09:30",
            "time-off-ends_at": "2027-03-16T12:00",
            "time-off-reason": " Dentist ",
        },
    )
    assert response.status_code == 302
    off = TimeOff.objects.get(staff=rep)
    # Typed in the rep's own zone (EDT, UTC-4), stored in UTC.
    assert (off.starts_at, off.ends_at, off.reason) == (
        at("2027-03-16T13:30+00:00"),
        at("2027-03-16T16:00+00:00"),
        "Dentist",
    )
    listed = client.get(url).content.decode()
    assert "Tuesday 16 March 2027, 09:30 \u2013 12:00 Dentist" in listed
    with pytest.raises(services.SlotUnavailableError):
        services.check_slot(call_type, [rep], at(SLOT), now=NOW)


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ("2027-03-16T12:00", "2027-03-16T09:30", "The end must be after the start."),
        ("2027-03-16T12:00", "2027-03-16T12:00", "The end must be after the start."),
        ("next tuesday", "2027-03-16T12:00", "Enter a valid date/time."),
        ("", "2027-03-16T12:00", "This field is required."),
    ],
)
def test_bad_time_off_is_refused_with_a_message_and_nothing_is_saved(
    client, lisbon_rep, frozen, starts, ends, message
):

    client.login(email=lisbon_rep.email, password=TEST_PASSWORD)
    response = client.post(
        reverse("scheduling:availability"),
        {"kind": "time-off", "time-off-starts_at": starts, "time-off-ends_at": ends},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TimeOff.objects.exists()


def test_staff_cannot_remove_someone_elses_time_off(client, lisbon_rep, frozen):

    other = UserFactory(role=Role.REP)
    theirs = services.add_time_off(
        other, starts_at=at("2027-03-16T09:00+00:00"), ends_at=at("2027-03-16T10:00+00:00")
    )
    mine = services.add_time_off(
        lisbon_rep, starts_at=at("2027-03-17T09:00+00:00"), ends_at=at("2027-03-17T10:00+00:00")
    )
    client.login(email=lisbon_rep.email, password=TEST_PASSWORD)
    url = reverse("scheduling:availability")
    assert client.post(url, {"kind": "time-off", "remove": str(theirs.pk)}).status_code == 302
    assert TimeOff.objects.filter(pk=theirs.pk).exists()
    client.post(url, {"kind": "time-off", "remove": str(mine.pk)})
    assert not TimeOff.objects.filter(pk=mine.pk).exists()


@pytest.mark.parametrize(
    ("language", "strip", "heading", "weekend"),
    [
        ("pt", "Escolha um dia", "Terça-feira, 16 de março", "Sábado, 20 de março, sem horas livres"),
        ("ru", "Выберите день", "Вторник, 16 марта", "Суббота, 20 марта, нет свободного времени"),
    ],
)
def test_the_days_are_named_in_the_clients_language(
    client, token, order, frozen, language, strip, heading, weekend
):
    order.client.language = language
    order.client.save()
    response = client.get(
        reverse("scheduling:book", args=[token]) + "?tz=Europe/Lisbon&from=2027-03-15&day=2027-03-16",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = response.content.decode()
    assert f'aria-label="{strip}"' in html
    shown = _picker(response)
    assert shown.heading == heading
    assert weekend in [day["name"] for day in shown.days]


@pytest.mark.parametrize(
    ("language", "when"),
    [
        ("en", "Tuesday 16 March 2027, 14:00 \u2013 14:30"),
        ("pt", "Terça-feira, 16 de março de 2027, 14:00 \u2013 14:30"),  # "de março", not "16 Março"
        ("ru", "Вторник, 16 марта 2027 г., 14:00 \u2013 14:30"),  # noqa: RUF001 ("марта", not the nominative "Март")
    ],
)
def test_the_confirm_and_booked_pages_name_the_day_grammatically(
    client, token, invitation, order, frozen, language, when
):
    order.client.language = language
    order.client.save()
    confirm = reverse("scheduling:book-confirm", args=[token])
    shown = client.get(confirm, {"start": SLOT, "tz": "UTC"}, HTTP_ACCEPT_LANGUAGE="en")
    assert when in shown.content.decode()
    booked = client.get(client.post(confirm, {"start": SLOT, "tz": "UTC"})["Location"])
    assert when in booked.content.decode()


def test_the_client_reads_what_the_call_is_for_where_they_pick_a_time(client, token, call_type, frozen):
    call_type.description = "We go through your answers & agree on the next steps."
    call_type.save()
    html = page(client, token, tz="UTC", **{"from": "2027-03-16"}).content.decode()
    assert "We go through your answers &amp; agree on the next steps." in html
