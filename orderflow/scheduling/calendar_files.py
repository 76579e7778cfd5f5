"""iCalendar (.ics) files: the invitation e-mailed with a booking, and each staff member's private feed."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import icalendar
from django.utils import timezone

from orderflow.scheduling.models import Booking

PRODUCT_ID = "-//Orderflow//Scheduling//EN"


def _address(email: str, name: str, *, role: str, status: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["cn"] = icalendar.vText(name)
    address.params["role"] = icalendar.vText(role)
    address.params["partstat"] = icalendar.vText(status)
    address.params["rsvp"] = icalendar.vText("FALSE")
    return address


def booking_event(booking: Booking, *, cancelled: bool = False) -> icalendar.Event:
    """One VEVENT for `booking`: UTC start and end, the rep as organiser, client and rep as attendees.

    UID stays the same across reschedules and SEQUENCE grows, so calendar programs move the event.
    """
    staff = booking.staff
    client = booking.order.client
    event = icalendar.Event()
    event.add("uid", booking.uid)
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("dtstart", booking.starts_at.astimezone(datetime.UTC))
    event.add("dtend", booking.ends_at.astimezone(datetime.UTC))
    event.add("sequence", booking.sequence + (1 if cancelled else 0))
    event.add("summary", f"{booking.booking_type.name}: {client.name} / {staff.get_full_name()}")
    event.add("description", f"{booking.order.reference} {booking.order.title}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{staff.email}")
    organizer.params["cn"] = icalendar.vText(staff.get_full_name())
    event.add("organizer", organizer)
    event.add("attendee", _address(staff.email, staff.get_full_name(), role="CHAIR", status="ACCEPTED"))
    if client.email:
        event.add("attendee", _address(client.email, client.name, role="REQ-PARTICIPANT", status="ACCEPTED"))
    return event


def booking_invitation(booking: Booking, *, cancelled: bool = False) -> bytes:
    """The .ics attached to a confirmation (METHOD:REQUEST) or a cancellation (METHOD:CANCEL)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    calendar.add_component(booking_event(booking, cancelled=cancelled))
    return calendar.to_ical()


def staff_feed(name: str, bookings: Iterable[Booking]) -> bytes:
    """A subscribable calendar (METHOD:PUBLISH) of a staff member's bookings."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for booking in bookings:
        calendar.add_component(booking_event(booking, cancelled=not booking.is_confirmed))
    return calendar.to_ical()
