"""Services that shape booking types (the kinds of call clients can book): create, edit, (de)activate.

Admins and managers use them from Settings → Booking types. Every value is checked here, so the
page, the admin site and any script refuse the same things with the same messages, and nothing is
saved when one value is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.errors import DomainError
from orderflow.pipelines.models import Stage
from orderflow.scheduling.models import BookingType

MAX_DURATION_MINUTES = 480
MAX_BUFFER_MINUTES = 480
MAX_DAYS_AHEAD = 730
MAX_CHANGE_UNTIL_HOURS = 720
MAX_LINK_DAYS = 365
MIN_STEP_MINUTES = 5


class BookingTypeError(DomainError):
    """A booking type that cannot be saved; nothing was changed."""

    code = "booking_type_invalid"


class BookingTypeInputError(BookingTypeError):
    """Some values are wrong; `errors` maps the settings' names to messages meant for the person."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class BookingTypeForbiddenError(BookingTypeError):
    code = "booking_type_forbidden"


@dataclass(frozen=True)
class BookingTypeSettings:
    """What an admin or manager sets on a booking type. Minutes, hours and days as the names say."""

    name: str
    description: str = ""
    duration_minutes: int = 30
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    minimum_notice_minutes: int = 240
    days_ahead: int = 30
    slot_step_minutes: int = 30
    max_per_day: int | None = None
    assignment: str = BookingType.Assignment.ORDER_OWNER
    staff_ids: Sequence[int] = field(default_factory=tuple)
    stage_key: str = ""
    change_until_hours: int = 24
    invitation_valid_days: int = 30

    @classmethod
    def of(cls, booking_type: BookingType) -> BookingTypeSettings:
        """The settings a booking type has now (to fill the edit form)."""
        return cls(
            name=booking_type.name,
            description=booking_type.description,
            duration_minutes=booking_type.duration_minutes,
            buffer_before_minutes=booking_type.buffer_before_minutes,
            buffer_after_minutes=booking_type.buffer_after_minutes,
            minimum_notice_minutes=booking_type.minimum_notice_minutes,
            days_ahead=booking_type.days_ahead,
            slot_step_minutes=booking_type.slot_step_minutes,
            max_per_day=booking_type.max_per_day,
            assignment=booking_type.assignment,
            staff_ids=tuple(booking_type.staff.values_list("pk", flat=True)),
            stage_key=booking_type.stage_key,
            change_until_hours=booking_type.change_until_hours,
            invitation_valid_days=booking_type.invitation_valid_days,
        )


def staff_who_take_calls() -> QuerySet[User]:
    """Active staff (admins, managers, reps) by name: who may be in a round-robin group."""
    return (
        User.objects.filter(is_active=True, groups__name__in=Role.STAFF)
        .distinct()
        .order_by("full_name", "pk")
    )


def stage_keys() -> list[str]:
    """Keys of the stages of every pipeline, each once, sorted: where a booking may move the order."""
    return sorted(set(Stage.objects.values_list("key", flat=True)))


def check_settings(settings: BookingTypeSettings) -> dict[str, str]:
    """Every wrong value with its message (empty when all is well). Pure except for staff and stages."""
    errors: dict[str, str] = {}

    def within(name: str, value: int, low: int, high: int, message: str) -> None:
        if not low <= value <= high:
            errors[name] = message

    if not settings.name.strip():
        errors["name"] = _("Give the kind of call a name, e.g. “Questionnaire review call”.")
    elif len(settings.name.strip()) > 120:
        errors["name"] = _("The name can be at most 120 characters long.")
    if len(settings.description.strip()) > 300:
        errors["description"] = _("The description can be at most 300 characters long.")
    within(
        "duration_minutes",
        settings.duration_minutes,
        MIN_STEP_MINUTES,
        MAX_DURATION_MINUTES,
        _("A call lasts from %(low)d to %(high)d minutes.")
        % {"low": MIN_STEP_MINUTES, "high": MAX_DURATION_MINUTES},
    )
    for name in ("buffer_before_minutes", "buffer_after_minutes"):
        within(
            name,
            getattr(settings, name),
            0,
            MAX_BUFFER_MINUTES,
            _("Free time is from 0 to %(high)d minutes.") % {"high": MAX_BUFFER_MINUTES},
        )
    within(
        "days_ahead",
        settings.days_ahead,
        1,
        MAX_DAYS_AHEAD,
        _("Calls can be booked from 1 to %(high)d days ahead.") % {"high": MAX_DAYS_AHEAD},
    )
    if settings.minimum_notice_minutes < 0:
        errors["minimum_notice_minutes"] = _("The minimum notice cannot be negative.")
    elif "days_ahead" not in errors and settings.minimum_notice_minutes >= settings.days_ahead * 24 * 60:
        errors["minimum_notice_minutes"] = _(
            "The minimum notice must be shorter than how far ahead calls can be booked, or no time is ever free."
        )
    within(
        "slot_step_minutes",
        settings.slot_step_minutes,
        MIN_STEP_MINUTES,
        MAX_DURATION_MINUTES,
        _("A slot starts every %(low)d to %(high)d minutes.")
        % {"low": MIN_STEP_MINUTES, "high": MAX_DURATION_MINUTES},
    )
    if settings.max_per_day is not None and settings.max_per_day < 1:
        errors["max_per_day"] = _("Allow at least one call a day, or leave it empty for no limit.")
    if settings.assignment not in BookingType.Assignment.values:
        errors["assignment"] = _("Choose who takes the call.")
    elif settings.assignment == BookingType.Assignment.ROUND_ROBIN:
        chosen = set(settings.staff_ids)
        if not chosen:
            errors["staff_ids"] = _("Choose at least one staff member for the round-robin.")
        elif staff_who_take_calls().filter(pk__in=chosen).count() != len(chosen):
            errors["staff_ids"] = _("Only active staff members can take calls.")
    if settings.stage_key and settings.stage_key not in stage_keys():
        errors["stage_key"] = _("No pipeline has a stage with the key “%(key)s”.") % {
            "key": settings.stage_key
        }
    within(
        "change_until_hours",
        settings.change_until_hours,
        0,
        MAX_CHANGE_UNTIL_HOURS,
        _("Clients can change a call until 0 to %(high)d hours before it.")
        % {"high": MAX_CHANGE_UNTIL_HOURS},
    )
    within(
        "invitation_valid_days",
        settings.invitation_valid_days,
        1,
        MAX_LINK_DAYS,
        _("A booking link is valid for 1 to %(high)d days.") % {"high": MAX_LINK_DAYS},
    )
    return errors


def _check_may_configure(by: User) -> None:
    if not by.has_perm("scheduling.change_bookingtype"):
        raise BookingTypeForbiddenError(_("Only an administrator or a manager may set up kinds of call."))


def _apply(booking_type: BookingType, settings: BookingTypeSettings) -> None:
    round_robin = settings.assignment == BookingType.Assignment.ROUND_ROBIN
    booking_type.name = settings.name.strip()
    booking_type.description = settings.description.strip()
    booking_type.duration_minutes = settings.duration_minutes
    booking_type.buffer_before_minutes = settings.buffer_before_minutes
    booking_type.buffer_after_minutes = settings.buffer_after_minutes
    booking_type.minimum_notice_minutes = settings.minimum_notice_minutes
    booking_type.days_ahead = settings.days_ahead
    booking_type.slot_step_minutes = settings.slot_step_minutes
    booking_type.max_per_day = settings.max_per_day
    booking_type.assignment = settings.assignment
    booking_type.stage_key = settings.stage_key
    booking_type.change_until_hours = settings.change_until_hours
    booking_type.invitation_valid_days = settings.invitation_valid_days
    booking_type.save()
    # The owner takes calls of an "order's owner" type; a group left over would only confuse.
    booking_type.staff.set(sorted(set(settings.staff_ids)) if round_robin else [])


@transaction.atomic
def create_booking_type(settings: BookingTypeSettings, *, by: User) -> BookingType:
    """A new kind of call, active at once (staff can send its links). Refuses wrong values whole."""
    _check_may_configure(by)
    errors = check_settings(settings)
    if errors:
        raise BookingTypeInputError(errors)
    booking_type = BookingType()
    _apply(booking_type, settings)
    return booking_type


@transaction.atomic
def update_booking_type(booking_type: BookingType, settings: BookingTypeSettings, *, by: User) -> BookingType:
    """Change a kind of call. Booked calls keep their times; new limits apply to what is booked next."""
    _check_may_configure(by)
    errors = check_settings(settings)
    if errors:
        raise BookingTypeInputError(errors)
    locked = BookingType.objects.select_for_update().get(pk=booking_type.pk)
    _apply(locked, settings)
    return locked


@transaction.atomic
def set_booking_type_active(booking_type: BookingType, is_active: bool, *, by: User) -> BookingType:
    """Deactivate (no new links can be sent; links already sent still book) or activate again."""
    _check_may_configure(by)
    locked = BookingType.objects.select_for_update().get(pk=booking_type.pk)
    if locked.is_active != is_active:
        locked.is_active = is_active
        locked.save(update_fields=["is_active"])
    return locked
