"""Views of scheduling: the client's booking pages (by secure link) and the staff calendar. Thin."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orderflow.accounts.models import Organisation, User
from orderflow.errors import DomainError
from orderflow.scheduling import calendar_files, selectors, services
from orderflow.scheduling.forms import (
    DateOverrideForm,
    InviteForm,
    PageZoneForm,
    SlotChoiceForm,
    TimeOffForm,
    WeeklyHoursForm,
)
from orderflow.scheduling.models import Booking, BookingInvitation
from orderflow.widgets import time_zone_names

# --- The client's pages (no login: the link is the key) --------------------------------------------


@dataclass(frozen=True)
class ClientLink:
    """What every client page works with: the link's token, its invitation, the booked call, "now"."""

    token: str
    invitation: BookingInvitation
    booking: Booking | None
    now: datetime.datetime


ClientView = Callable[[HttpRequest, ClientLink], HttpResponse]


def client_link_view(view: ClientView) -> Callable[[HttpRequest, str], HttpResponse]:
    """Open the link, then run `view` in the client's language from the first check to the last word.

    Every refusal a service raises is worded at the moment it is raised, so the language is active
    around the service calls too, not only around the rendering. An unknown link has no client and
    is answered in the browser's language. The link is the key: pages are never cached.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        now = timezone.now()
        invitation = selectors.invitation_by_token(token)
        if invitation is None:
            return _unusable(request, _("This booking link is not valid."))
        with translation.override(invitation.order.client.language):
            booking = selectors.current_booking(invitation)
            try:
                services.check_link_opens(invitation, booking, now=now)
            except services.InvitationUnusableError as error:
                return _unusable(request, error.message)
            response = view(request, ClientLink(token=token, invitation=invitation, booking=booking, now=now))
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def _client_page(
    request: HttpRequest, link: ClientLink, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render with the things every booking page shows (the language is already the client's)."""
    # Site-wide same-origin referrer policy: the URL (the key) never goes to another site.
    # "no-referrer" would make Chromium send "Origin: null" and fail CSRF.
    return render(
        request,
        template,
        {
            "invitation": link.invitation,
            "booking_type": link.invitation.booking_type,
            "token": link.token,
            "organisation_name": Organisation.current().name,
            **context,
        },
        status=status,
    )


def _unusable(request: HttpRequest, message: str) -> HttpResponse:
    response = render(request, "scheduling/book_unusable.html", {"message": message}, status=410)
    response["Cache-Control"] = "no-store"
    return response


def _too_late(
    request: HttpRequest, link: ClientLink, booking: Booking, error: DomainError, *, status: int
) -> HttpResponse:
    """The call is inside its change limit: say so, show the call, and name whom to contact."""
    zone, _refused = selectors.page_time_zone(
        request.GET.get("tz") or request.POST.get("tz"), fallback=booking.client_time_zone
    )
    return _client_page(
        request,
        link,
        "scheduling/book_too_late.html",
        {"booking": booking, "zone": zone, "message": error.message, "staff": booking.staff},
        status=status,
    )


def _parse_day(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _slots_page(
    request: HttpRequest,
    link: ClientLink,
    *,
    error: str = "",
    status: int = 200,
    refused_at: datetime.datetime | None = None,
) -> HttpResponse:
    """The "pick a time" page: a week's days to choose from and the chosen day's free times.

    Without JavaScript every day is a link (`?day=`, keeping the zone, the week and `change`); with
    htmx a day's link swaps only the picker (`_slot_picker.html`). A refused time (`refused_at`)
    re-renders its own day's fresh times.
    """
    invitation, booking, now = link.invitation, link.booking, link.now
    requested_zone = request.GET.get("tz") or request.POST.get("tz")
    zone, zone_refused = selectors.page_time_zone(requested_zone, fallback=invitation.order.client.time_zone)
    wanted = (
        refused_at.astimezone(zone).date() if refused_at is not None else _parse_day(request.GET.get("day"))
    )
    week = selectors.slot_week(
        invitation,
        zone=zone,
        now=now,
        start=_parse_day(request.GET.get("from")),
        wanted=wanted,
        ignore_booking_id=booking.pk if booking else None,
    )
    base = {"tz": zone.key, **({"change": "1"} if booking else {})}
    context = {
        "booking": booking,
        "week": week,
        "zone": zone,
        "zone_refused": zone_refused,
        "zone_was_given": bool(requested_zone),
        # Absolute: after a refusal the page is the answer to a POST to the confirm address.
        "book_url": reverse("scheduling:book", args=[link.token]),
        "day_query": urlencode({**base, "from": week.first_day.isoformat()}),
        "error": error,
    }
    if request.htmx and request.htmx.target == "slot-picker":  # type: ignore[attr-defined]
        return _client_page(request, link, "scheduling/_slot_picker.html", context, status=status)
    return _client_page(
        request,
        link,
        "scheduling/book_slots.html",
        {
            **context,
            "zone_form": PageZoneForm.showing(zone.key),
            "zones": time_zone_names(),
            "earlier_url": urlencode({**base, "from": week.earlier.isoformat()}) if week.earlier else "",
            "later_url": urlencode({**base, "from": week.later.isoformat()}) if week.later else "",
        },
        status=status,
    )


def _change_refusal(booking: Booking, now: datetime.datetime) -> services.BookingError | None:
    """Why the client may not move or cancel the booked call now, or None."""
    try:
        services.check_can_change(booking, now=now)
    except services.BookingError as error:
        return error
    return None


@require_GET
@client_link_view
def book(request: HttpRequest, link: ClientLink) -> HttpResponse:
    """The link's page: free times to pick from, or the booked call with reschedule and cancel."""
    booking = link.booking
    if booking is None:
        return _slots_page(request, link)
    refusal = _change_refusal(booking, link.now)
    if request.GET.get("change") == "1":
        if refusal is not None:
            return _too_late(request, link, booking, refusal, status=200)
        return _slots_page(request, link)
    zone, _refused = selectors.page_time_zone(request.GET.get("tz"), fallback=booking.client_time_zone)
    return _client_page(
        request,
        link,
        "scheduling/book_done.html",
        {"booking": booking, "zone": zone, "can_change": refusal is None, "staff": booking.staff},
    )


@client_link_view
def book_confirm(request: HttpRequest, link: ClientLink) -> HttpResponse:
    """Confirm the picked time (GET shows it, POST books or moves the call)."""
    invitation, booking, now = link.invitation, link.booking, link.now
    form = SlotChoiceForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return _slots_page(request, link, error=_("Please pick one of the times shown."), status=400)
    starts_at: datetime.datetime = form.cleaned_data["start"]
    zone, _refused = selectors.page_time_zone(
        form.cleaned_data["tz"], fallback=invitation.order.client.time_zone
    )
    if booking is not None and (refusal := _change_refusal(booking, now)) is not None:
        return _too_late(request, link, booking, refusal, status=409 if request.method == "POST" else 200)
    if request.method == "POST":
        try:
            if booking is not None:
                services.reschedule_booking(booking, starts_at, client_time_zone=zone.key, now=now)
            else:
                services.book_slot(invitation, starts_at, client_time_zone=zone.key, now=now)
        except services.SlotUnavailableError as error:
            return _slots_page(request, link, error=error.message, status=409, refused_at=starts_at)
        except services.BookingError as error:
            if booking is not None and error.code == "booking_change_too_late":
                return _too_late(request, link, booking, error, status=409)
            messages.error(request, error.message)
        return redirect(reverse("scheduling:book", args=[link.token]) + "?" + urlencode({"tz": zone.key}))
    staff_zone = None
    if invitation.order.owner is not None and invitation.booking_type.assignment == "owner":
        staff_zone = selectors.availability.zone_of(invitation.order.owner.time_zone)
    return _client_page(
        request,
        link,
        "scheduling/book_confirm.html",
        {
            "booking": booking,
            "starts_at": starts_at.astimezone(zone),
            "ends_at": (starts_at + invitation.booking_type.duration).astimezone(zone),
            "start_value": starts_at.astimezone(datetime.UTC).isoformat(),
            "zone": zone,
            "staff_zone": staff_zone if staff_zone is not None and staff_zone.key != zone.key else None,
            "staff_starts_at": starts_at.astimezone(staff_zone) if staff_zone is not None else None,
            "start_day": starts_at.astimezone(zone).date(),
            "staff": invitation.order.owner,
        },
    )


@client_link_view
def book_cancel(request: HttpRequest, link: ClientLink) -> HttpResponse:
    """Cancel the booked call: GET asks, POST cancels (until the booking type's limit before the call)."""
    booking, now = link.booking, link.now
    zone, _refused = selectors.page_time_zone(
        request.GET.get("tz") or request.POST.get("tz"), fallback=link.invitation.order.client.time_zone
    )
    back = reverse("scheduling:book", args=[link.token]) + "?" + urlencode({"tz": zone.key})
    if booking is None:
        return redirect(back)
    refusal = _change_refusal(booking, now)
    if refusal is not None:
        return _too_late(request, link, booking, refusal, status=409 if request.method == "POST" else 200)
    if request.method == "POST":
        try:
            services.cancel_booking(booking, by=None, now=now)
        except services.BookingError as error:
            if error.code == "booking_change_too_late":
                return _too_late(request, link, booking, error, status=409)
            messages.error(request, error.message)
            return redirect(back)
        if link.invitation.is_usable(now):
            messages.success(request, _("Your call is cancelled. You can book another time below."))
        else:
            messages.success(request, _("Your call is cancelled."))
        return redirect(back)
    return _client_page(request, link, "scheduling/book_cancel.html", {"booking": booking, "zone": zone})


@require_GET
@client_link_view
def book_ics(request: HttpRequest, link: ClientLink) -> HttpResponse:
    """The booked call as an .ics file, for clients whose mail did not add it to their calendar."""
    if link.booking is None:
        raise Http404
    response = HttpResponse(
        calendar_files.booking_invitation(link.booking), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="call.ics"'
    return response


# --- Staff ------------------------------------------------------------------------------------------


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def staff_calendar(request: HttpRequest) -> HttpResponse:
    """The signed-in staff member's week of calls, in their own zone; their feed link and the invite form."""
    user: User = request.user  # type: ignore[assignment]
    zone = selectors.availability.zone_of(user.time_zone)
    today = timezone.now().astimezone(zone).date()
    monday = _monday(_parse_day(request.GET.get("week")) or today)
    feed = getattr(user, "calendar_feed", None)
    feed_url = (
        request.build_absolute_uri(reverse("scheduling:feed", args=[services.feed_token(feed)]))
        if feed is not None
        else ""
    )
    return render(
        request,
        "scheduling/staff_calendar.html",
        {
            "days": selectors.week_of_bookings(user, monday=monday, zone=zone),
            "monday": monday,
            "sunday": monday + datetime.timedelta(days=6),
            "previous_week": (monday - datetime.timedelta(days=7)).isoformat(),
            "next_week": (monday + datetime.timedelta(days=7)).isoformat(),
            "today": today,
            "zone": zone,
            "feed_url": feed_url,
            "invite_form": InviteForm(),
        },
    )


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
@require_POST
def feed_create(request: HttpRequest) -> HttpResponse:
    services.create_calendar_feed(request.user)  # type: ignore[arg-type]
    messages.success(request, _("Your calendar link is ready. Any earlier link no longer works."))
    return redirect("scheduling:staff-calendar")


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private .ics feed: the token in the URL is the only key (calendar programs cannot log in)."""
    found = selectors.feed_for_token(token)
    if found is None or not found.staff.is_active:
        raise Http404
    bookings = selectors.feed_bookings(found.staff, now=timezone.now())
    body = calendar_files.staff_feed(_("Calls: %(name)s") % {"name": found.staff.get_full_name()}, bookings)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    """Create a booking link for an order's client and e-mail it to them."""
    form = InviteForm(request.POST)
    if form.is_valid():
        order = form.cleaned_data["order"]
        try:
            _invitation, link = services.send_booking_invitation(
                order,
                form.cleaned_data["booking_type"],
                by=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("scheduling:staff-calendar")
        messages.success(
            request,
            _("Booking link for %(reference)s: %(link)s") % {"reference": order.reference, "link": link},
        )
    else:
        for field_errors in form.errors.values():
            for field_error in field_errors:
                messages.error(request, str(field_error))
    return redirect("scheduling:staff-calendar")


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def availability_edit(request: HttpRequest) -> HttpResponse:
    """The signed-in staff member's weekly hours, date overrides and time off (all in their own zone)."""
    user: User = request.user  # type: ignore[assignment]
    forms_by_kind = {
        "hours": WeeklyHoursForm(prefix="hours"),
        "override": DateOverrideForm(prefix="override"),
        "time_off": TimeOffForm(prefix="time-off"),
    }
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        try:
            if "remove" in request.POST:
                services.remove_availability(user, kind=kind, pk=int(request.POST["remove"]))
                return redirect("scheduling:availability")
            if kind == "hours":
                form: Any = WeeklyHoursForm(request.POST, prefix="hours")
                if form.is_valid():
                    services.add_weekly_hours(user, **form.cleaned_data)
                    return redirect("scheduling:availability")
            elif kind == "override":
                form = DateOverrideForm(request.POST, prefix="override")
                if form.is_valid():
                    services.add_date_override(user, **form.cleaned_data)
                    return redirect("scheduling:availability")
            elif kind == "time-off":
                form = TimeOffForm(request.POST, prefix="time-off")
                if form.is_valid():
                    services.add_time_off(user, **form.cleaned_data)
                    return redirect("scheduling:availability")
            else:
                raise Http404
            forms_by_kind[kind.replace("-", "_")] = form
        except (DomainError, ValueError) as error:
            messages.error(request, str(error))
    return render(
        request,
        "scheduling/availability.html",
        {
            "forms": forms_by_kind,
            "weekly": user.weekly_hours.all(),
            "overrides": user.date_overrides.filter(date__gte=timezone.now().date()),
            "time_off": user.time_off.filter(ends_at__gte=timezone.now()),
            "zone": user.time_zone,
        },
    )
