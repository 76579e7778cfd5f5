"""Every write to scheduling: invitations, booking, rescheduling, cancelling, notices and feeds.

Bookings go through book_slot / reschedule_booking / cancel_booking only. Each runs in one
transaction that also appends the OrderEvent and queues its notices in the notifications outbox
(notices.py); e-mail leaves later, from the outbox's workers.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orderflow.accounts.models import User
from orderflow.errors import DomainError
from orderflow.notifications.services import queue_email
from orderflow.pipelines.models import Order, OrderEvent, StaffTask
from orderflow.pipelines.services import (
    StageGuardError,
    TaskInputError,
    create_task,
    move_order,
    record_event,
)
from orderflow.scheduling import availability, notices
from orderflow.scheduling.migration_operations import BOOKING_NO_OVERLAP
from orderflow.scheduling.models import (
    Booking,
    BookingInvitation,
    BookingType,
    CalendarFeed,
    DateOverride,
    TimeOff,
    WeeklyHours,
)

logger = logging.getLogger(__name__)


class BookingError(DomainError):
    """A booking request that cannot be done; nothing was changed."""

    code = "booking_invalid"


class SlotUnavailableError(BookingError):
    """The chosen time cannot be booked (past, too soon, outside hours, just taken). Offer fresh slots."""

    code = "slot_unavailable"


class InvitationUnusableError(BookingError):
    """The booking link is unknown, expired or revoked."""

    code = "invitation_unusable"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def token_for(salt: str, *, purpose: str) -> str:
    """The URL token for a row's `salt`: an HMAC under SECRET_KEY, unguessable without both (256 bits)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"orderflow.scheduling.{purpose}:{salt}".encode(), "sha256"
    )
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def invitation_token(invitation: BookingInvitation) -> str:
    return token_for(invitation.salt, purpose="invitation")


def feed_token(feed: CalendarFeed) -> str:
    return token_for(feed.salt, purpose="feed")


def booking_link(invitation: BookingInvitation) -> str:
    """The full URL of the client's page for `invitation` (book, then reschedule or cancel)."""
    return settings.BASE_URL + reverse("scheduling:book", args=[invitation_token(invitation)])


# --- Invitations ------------------------------------------------------------------------------


@transaction.atomic
def invite_to_book(
    order: Order, booking_type: BookingType, *, by: User | None, now: datetime.datetime | None = None
) -> tuple[BookingInvitation, str]:
    """Create a booking link for the order's client. Returns the invitation and the token (shown once)."""
    if not booking_type.is_active:
        raise BookingError(
            _("This kind of call cannot be booked at the moment."), code="booking_type_inactive"
        )
    check_staff_available_for(order, booking_type)
    salt = new_salt()
    token = token_for(salt, purpose="invitation")
    invitation = BookingInvitation.objects.create(
        order=order,
        booking_type=booking_type,
        salt=salt,
        token_hash=hash_token(token),
        expires_at=(now or timezone.now()) + datetime.timedelta(days=booking_type.invitation_valid_days),
        created_by=by,
    )
    return invitation, token


@transaction.atomic
def send_booking_invitation(
    order: Order, booking_type: BookingType, *, by: User | None, now: datetime.datetime | None = None
) -> tuple[BookingInvitation, str]:
    """Create a booking link and e-mail it to the order's client (queued; sent by a worker after commit).

    For staff (the calendar's invite form) and automation rules alike. Returns the invitation and
    the link's full URL. A client without an e-mail address gets no e-mail; staff pass the link on.
    Either way the order's timeline gets a `booking.invited` event ("Booking link sent", with the
    invitation and the booking type), which starts the "book your call" reminders.
    """
    invitation, token = invite_to_book(order, booking_type, by=by, now=now)
    link = settings.BASE_URL + reverse("scheduling:book", args=[token])
    record_event(
        order,
        OrderEvent.Kind.BOOKING_INVITED,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=booking_type.name,
        data={
            "invitation": invitation.pk,
            "booking_type": booking_type.pk,
            "expires_at": invitation.expires_at.isoformat(),
        },
    )
    client = order.client
    if client.email:
        zone = availability.zone_of(client.time_zone)
        with translation.override(client.language):
            subject = _("Please pick a time for our call")
            body = _(
                "Hello %(name)s,\n\nplease pick a time for our call (%(call)s) about order %(reference)s:\n"
                "%(link)s\n\nThe link works until %(expires)s."
            ) % {
                "name": client.name,
                "call": booking_type.name,
                "reference": order.reference,
                "link": link,
                "expires": invitation.expires_at.astimezone(zone).strftime("%Y-%m-%d"),
            }
        queue_email(
            key=f"booking-invitation:{invitation.pk}",
            recipient=client.email,
            subject=subject,
            body_text=body,
            language=client.language,
            contact=client,
            order_id=order.pk,
        )
    return invitation, link


@transaction.atomic
def revoke_invitation(
    invitation: BookingInvitation, *, now: datetime.datetime | None = None
) -> BookingInvitation:
    """Make the link stop working at once. Revoking twice changes nothing."""
    locked = BookingInvitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.revoked_at is None:
        locked.revoked_at = now or timezone.now()
        locked.save(update_fields=["revoked_at"])
    return locked


def check_invitation_usable(invitation: BookingInvitation, *, now: datetime.datetime) -> None:
    """The link may book a new call: neither revoked nor past its `expires_at`."""
    if invitation.revoked_at is not None:
        raise InvitationUnusableError(_("This booking link has been withdrawn."), code="invitation_revoked")
    if invitation.expires_at <= now:
        raise InvitationUnusableError(_("This booking link has expired."), code="invitation_expired")


def check_link_opens(
    invitation: BookingInvitation, booking: Booking | None, *, now: datetime.datetime
) -> None:
    """The client's link still opens: to book (until the invitation expires) or to manage a booked call.

    The invitation's expiry limits when a call can be booked, not how long a booked call can be
    seen, moved or cancelled: the link of a confirmed booking works until the call ends, even when
    the invitation expired in between (booked on day 25 for day 47). A revoked link never opens.
    """
    managing = booking is not None and booking.is_confirmed and booking.ends_at > now
    if invitation.revoked_at is None and managing:
        return
    check_invitation_usable(invitation, now=now)


def check_staff_available_for(order: Order, booking_type: BookingType) -> None:
    """Refuse when nobody could take the call: the order has no owner, or the group is empty."""
    if booking_type.assignment == BookingType.Assignment.ORDER_OWNER and order.owner_id is None:
        raise BookingError(
            _("Give the order an owner first: they take the call."), code="order_without_owner"
        )
    if booking_type.assignment == BookingType.Assignment.ROUND_ROBIN and not booking_type.staff.exists():
        raise BookingError(_("Nobody is in this call's group yet."), code="booking_group_empty")


def staff_for(order: Order, booking_type: BookingType) -> list[User]:
    """Who may take calls of `booking_type` for `order`: its owner, or the active round-robin group."""
    if booking_type.assignment == BookingType.Assignment.ROUND_ROBIN:
        return list(booking_type.staff.filter(is_active=True).order_by("pk"))
    return [order.owner] if order.owner is not None and order.owner.is_active else []


def lock_staff(staff: list[User]) -> list[User]:
    """Lock the rows of the staff who could take the call, for the rest of the transaction.

    Bookings of one staff member are serialised by this lock, so what a booking checks across rows
    (at most `max_per_day` a day; no overlap, which the exclusion constraint also guards) still holds
    when it commits: two clients booking different times on one day cannot both be the last one.
    Locked in id order, so two bookings that share staff never wait for each other in a circle.
    FOR NO KEY UPDATE on PostgreSQL leaves inserts that merely point at the user (tasks, events)
    unblocked. SQLite serialises every writer anyway (transactions begin IMMEDIATE).
    """
    if not staff:
        return []
    ids = sorted(member.pk for member in staff)
    list(User.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk"))
    return staff


# --- Checking a chosen time -----------------------------------------------------------------------


def check_slot(
    booking_type: BookingType,
    staff: list[User],
    starts_at: datetime.datetime,
    *,
    now: datetime.datetime,
    ignore_booking_id: int | None = None,
) -> availability.Slot:
    """The slot at `starts_at` with who is free then, or SlotUnavailableError saying why not."""
    earliest, latest = availability.bookable_window(booking_type, now)
    if starts_at <= now:
        raise SlotUnavailableError(_("That time has already passed."), code="slot_past")
    if starts_at < earliest:
        raise SlotUnavailableError(
            _("That time is too soon: please pick a time at least %(notice)s from now.")
            % {"notice": _notice_text(booking_type.minimum_notice_minutes)},
            code="slot_notice",
        )
    if starts_at > latest:
        raise SlotUnavailableError(_("That time is too far ahead."), code="slot_too_far")
    period = (starts_at, starts_at + datetime.timedelta(seconds=1))
    calendars = availability.load_calendars(
        booking_type, staff, period_start=period[0], period_end=period[1], ignore_booking_id=ignore_booking_id
    )
    found = availability.free_slots(
        booking_type, calendars, now=now, period_start=period[0], period_end=period[1]
    )
    if found and found[0].starts_at == starts_at:
        return found[0]
    possible = availability.free_slots(
        booking_type, calendars, now=now, period_start=period[0], period_end=period[1], ignore_bookings=True
    )
    if possible and possible[0].starts_at == starts_at:
        raise SlotUnavailableError(
            _("Sorry, this time was just taken. Here are the times still free."), code="slot_taken"
        )
    raise SlotUnavailableError(
        _("That time is not offered. Please pick one of the times shown."), code="slot_outside_hours"
    )


def _notice_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return _("%(count)d hour(s)") % {"count": hours}
    return _("%(count)d minute(s)") % {"count": minutes}


def _as_utc(value: datetime.datetime) -> datetime.datetime:
    if timezone.is_naive(value):
        raise BookingError(_("A time without a time zone cannot be booked."), code="slot_naive")
    return value.astimezone(datetime.UTC).replace(second=0, microsecond=0)


# --- Booking ---------------------------------------------------------------------------------------


def book_slot(
    invitation: BookingInvitation,
    starts_at: datetime.datetime,
    *,
    client_time_zone: str,
    now: datetime.datetime | None = None,
) -> Booking:
    """Book the call at `starts_at` for the invitation's order: the client's one write.

    Refuses (SlotUnavailableError, nothing changed) a time in the past, inside the notice period,
    beyond the horizon, outside the staff member's hours or taken. Two clients racing for one time:
    on PostgreSQL the exclusion constraint lets one insert win and the other gets "just taken"; on
    SQLite the transaction begins IMMEDIATE, so the second waits and then sees the first booking.
    """
    try:
        return _book_slot(invitation, _as_utc(starts_at), client_time_zone=client_time_zone, now=now)
    except IntegrityError as error:
        raise _refusal_from(error) from error


def _refusal_from(error: IntegrityError) -> BookingError:
    text = str(error)
    if BOOKING_NO_OVERLAP in text:
        return SlotUnavailableError(
            _("Sorry, this time was just taken. Here are the times still free."), code="slot_taken"
        )
    if "scheduling_one_booking_per_invitation" in text:
        return BookingError(_("This call is already booked."), code="already_booked")
    raise error


@transaction.atomic
def _book_slot(
    invitation: BookingInvitation,
    starts_at: datetime.datetime,
    *,
    client_time_zone: str,
    now: datetime.datetime | None,
) -> Booking:
    now = now or timezone.now()
    locked = (
        BookingInvitation.objects.select_for_update(of=("self",))
        .select_related("booking_type")
        .get(pk=invitation.pk)
    )
    check_invitation_usable(locked, now=now)
    if locked.bookings.filter(status=Booking.Status.CONFIRMED).exists():
        raise BookingError(_("This call is already booked."), code="already_booked")
    booking_type = locked.booking_type
    order = Order.objects.select_related("owner", "client", "pipeline").get(pk=locked.order_id)
    staff = lock_staff(staff_for(order, booking_type))
    slot = check_slot(booking_type, staff, starts_at, now=now)
    chosen = next(member for member in staff if member.pk == slot.staff_ids[0])
    booking = Booking.objects.create(
        invitation=locked,
        order=order,
        booking_type=booking_type,
        staff=chosen,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        blocked_from=slot.starts_at - booking_type.buffer_before,
        blocked_until=slot.ends_at + booking_type.buffer_after,
        client_time_zone=client_time_zone if availability.is_time_zone(client_time_zone) else "UTC",
    )
    record_event(
        order,
        OrderEvent.Kind.BOOKING_MADE,
        by=None,
        audience=OrderEvent.Audience.CLIENT,
        message=booking_type.name,
        data=_event_data(booking),
    )
    _move_order_for(order, booking_type)
    booking.task = _call_task(booking)
    if booking.task is not None:
        booking.save(update_fields=["task"])
    notices.plan_notices(booking, kind=notices.Kind.CONFIRMATION, now=now, manage_url=booking_link(locked))
    return booking


def _event_data(booking: Booking) -> dict[str, object]:
    return {
        "booking": booking.pk,
        "starts_at": booking.starts_at.isoformat(),
        "ends_at": booking.ends_at.isoformat(),
        "staff": booking.staff_id,
        "booking_type": booking.booking_type_id,
    }


def _move_order_for(order: Order, booking_type: BookingType) -> None:
    """Move the order to the booking type's stage; a stage that is missing or refuses is logged, not fatal."""
    if not booking_type.stage_key:
        return
    stage = order.pipeline.stages.filter(key=booking_type.stage_key).first()
    if stage is None or stage.pk == order.stage_id:
        return
    try:
        move_order(order, stage, by=None, reason=_("Call booked"))
    except StageGuardError as error:
        logger.warning("booking did not move order %s to %s: %s", order.pk, stage.key, error)


def _call_task(booking: Booking) -> StaffTask | None:
    client = booking.order.client
    try:
        return create_task(
            title=_("Call %(client)s (%(call)s)")
            % {"client": client.name, "call": booking.booking_type.name},
            assignee=booking.staff,
            by=None,
            order=booking.order,
            due_at=booking.starts_at,
            notes=client.phone,
        )
    except TaskInputError as error:
        logger.warning("no call task for booking %s: %s", booking.pk, error)
        return None


def check_can_change(booking: Booking, *, now: datetime.datetime) -> None:
    """The client may reschedule or cancel until the booking type's limit before the call."""
    if not booking.is_confirmed:
        raise BookingError(_("This call was cancelled."), code="booking_cancelled")
    limit = booking.starts_at - datetime.timedelta(hours=booking.booking_type.change_until_hours)
    if now >= limit:
        raise BookingError(
            _(
                "The call is less than %(hours)d hours away, so it can no longer be changed here. Please contact us."
            )
            % {"hours": booking.booking_type.change_until_hours},
            code="booking_change_too_late",
        )


def reschedule_booking(
    booking: Booking,
    starts_at: datetime.datetime,
    *,
    client_time_zone: str,
    now: datetime.datetime | None = None,
) -> Booking:
    """Move the call to another free time with the same staff member (same UID, next SEQUENCE)."""
    try:
        return _reschedule_booking(booking, _as_utc(starts_at), client_time_zone=client_time_zone, now=now)
    except IntegrityError as error:
        raise _refusal_from(error) from error


@transaction.atomic
def _reschedule_booking(
    booking: Booking, starts_at: datetime.datetime, *, client_time_zone: str, now: datetime.datetime | None
) -> Booking:
    now = now or timezone.now()
    locked = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("booking_type", "invitation")
        .get(pk=booking.pk)
    )
    check_link_opens(locked.invitation, locked, now=now)
    check_can_change(locked, now=now)
    booking_type = locked.booking_type
    (staff,) = lock_staff([locked.staff])
    slot = check_slot(booking_type, [staff], starts_at, now=now, ignore_booking_id=locked.pk)
    previous = locked.starts_at
    locked.starts_at = slot.starts_at
    locked.ends_at = slot.ends_at
    locked.blocked_from = slot.starts_at - booking_type.buffer_before
    locked.blocked_until = slot.ends_at + booking_type.buffer_after
    locked.sequence += 1
    if availability.is_time_zone(client_time_zone):
        locked.client_time_zone = client_time_zone
    locked.save(
        update_fields=[
            "starts_at",
            "ends_at",
            "blocked_from",
            "blocked_until",
            "sequence",
            "client_time_zone",
        ]
    )
    record_event(
        locked.order,
        OrderEvent.Kind.BOOKING_RESCHEDULED,
        by=None,
        audience=OrderEvent.Audience.CLIENT,
        message=booking_type.name,
        data={**_event_data(locked), "previous_starts_at": previous.isoformat()},
    )
    if locked.task_id is not None:
        # pipelines has no service to change a task's due time yet; this is the one field we touch.
        StaffTask.objects.filter(pk=locked.task_id, done_at__isnull=True).update(due_at=locked.starts_at)
    notices.withdraw_notices(locked, note=notices.withdrawal_note(cancelled=False))
    notices.plan_notices(
        locked, kind=notices.Kind.CONFIRMATION, now=now, manage_url=booking_link(locked.invitation)
    )
    return locked


@transaction.atomic
def cancel_booking(booking: Booking, *, by: User | None, now: datetime.datetime | None = None) -> Booking:
    """Cancel the call. `by=None` is the client, held to the change limit; staff may cancel any time.

    The time becomes free at once; both sides get a cancellation with METHOD:CANCEL. Cancelling a
    cancelled booking again is refused with a clear message.
    """
    now = now or timezone.now()
    locked = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("booking_type", "invitation")
        .get(pk=booking.pk)
    )
    if by is None:
        check_link_opens(locked.invitation, locked, now=now)
        check_can_change(locked, now=now)
    elif not locked.is_confirmed:
        raise BookingError(_("This call was cancelled."), code="booking_cancelled")
    locked.status = Booking.Status.CANCELLED
    locked.cancelled_at = now
    locked.save(update_fields=["status", "cancelled_at"])
    record_event(
        locked.order,
        OrderEvent.Kind.BOOKING_CANCELLED,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=locked.booking_type.name,
        data=_event_data(locked),
    )
    notices.withdraw_notices(locked, note=notices.withdrawal_note(cancelled=True))
    notices.plan_notices(
        locked, kind=notices.Kind.CANCELLATION, now=now, manage_url=booking_link(locked.invitation)
    )
    return locked


# --- Staff feed ------------------------------------------------------------------------------------


@transaction.atomic
def create_calendar_feed(staff: User) -> str:
    """Give `staff` a new private feed token (the old feed URL stops working). Returns the token."""
    salt = new_salt()
    token = token_for(salt, purpose="feed")
    CalendarFeed.objects.update_or_create(
        staff=staff, defaults={"salt": salt, "token_hash": hash_token(token)}
    )
    return token


# --- Availability -----------------------------------------------------------------------------------


def add_weekly_hours(staff: User, *, weekday: int, starts: datetime.time, ends: datetime.time) -> WeeklyHours:
    """Add a weekly window in the staff member's own zone (wall-clock times, so DST keeps 09:00 at 09:00)."""
    if starts >= ends:
        raise BookingError(_("The end must be after the start."), code="hours_order")
    return WeeklyHours.objects.create(staff=staff, weekday=weekday, starts=starts, ends=ends)


def add_date_override(
    staff: User, *, date: datetime.date, starts: datetime.time | None, ends: datetime.time | None
) -> DateOverride:
    """Replace the weekly hours on `date`; no times means no calls that day."""
    if (starts is None) != (ends is None) or (starts is not None and ends is not None and starts >= ends):
        raise BookingError(_("Give both times, or neither for a day without calls."), code="override_times")
    return DateOverride.objects.create(staff=staff, date=date, starts=starts, ends=ends)


def add_time_off(
    staff: User, *, starts_at: datetime.datetime, ends_at: datetime.datetime, reason: str = ""
) -> TimeOff:
    """Block a stretch of time; existing bookings in it stay (staff cancel those by hand)."""
    if starts_at >= ends_at:
        raise BookingError(_("The end must be after the start."), code="time_off_order")
    return TimeOff.objects.create(staff=staff, starts_at=starts_at, ends_at=ends_at, reason=reason.strip())


def remove_availability(staff: User, *, kind: str, pk: int) -> None:
    """Delete one of the staff member's own hours, overrides or time off; someone else's is not found."""
    model = {"hours": WeeklyHours, "override": DateOverride, "time-off": TimeOff}.get(kind)
    if model is None:
        raise BookingError(_("Nothing to remove."), code="availability_unknown")
    model.objects.filter(staff=staff, pk=pk).delete()  # type: ignore[attr-defined]


# --- Booking types named by process templates (added for automation) ------------------------------


@transaction.atomic
def ensure_booking_type(name: str, *, duration_minutes: int = 30, description: str = "") -> BookingType:
    """The booking type called `name`; created with these values when none has that name yet.

    For process templates whose rules send a booking invitation for a kind of call by name: loading
    the template makes sure it exists. An existing one (even inactive) is returned unchanged.
    """
    existing = BookingType.objects.filter(name=name).order_by("id").first()
    if existing is not None:
        return existing
    booking_type = BookingType(name=name, duration_minutes=duration_minutes, description=description)
    booking_type.full_clean()
    booking_type.save()
    return booking_type
