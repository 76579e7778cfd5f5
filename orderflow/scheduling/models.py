"""Staff availability, booking types, booking invitations (secure links), bookings and calendar feeds.

A booking's e-mails are messages in the notifications outbox (see notices.py), not rows here.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WeeklyHours(models.Model):
    """A window a staff member works on a weekday, in the staff member's own time zone (User.time_zone)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("weekly hours")
        verbose_name_plural = _("weekly hours")
        ordering = ["staff_id", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts__lt=models.F("ends")), name="scheduling_hours_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class DateOverride(models.Model):
    """Hours that replace the weekly hours on one date (staff's zone). No times: not available that day."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="date_overrides"
    )
    date = models.DateField(_("date"))
    starts = models.TimeField(_("from"), null=True, blank=True)
    ends = models.TimeField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("date override")
        verbose_name_plural = _("date overrides")
        ordering = ["staff_id", "date", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(starts__isnull=True) & models.Q(ends__isnull=True))
                | models.Q(starts__lt=models.F("ends")),
                name="scheduling_override_times",
            )
        ]

    def __str__(self) -> str:
        if self.starts is None or self.ends is None:
            return f"{self.date}: " + str(_("not available"))
        return f"{self.date} {self.starts:%H:%M}-{self.ends:%H:%M}"


class TimeOff(models.Model):
    """A stretch of time a staff member cannot take calls (holiday, appointment), stored in UTC."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["staff_id", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")), name="scheduling_time_off_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}-{self.ends_at:%Y-%m-%d %H:%M} UTC"


class BookingType(models.Model):
    """A kind of call clients can book, e.g. "Questionnaire review call", with its rules."""

    class Assignment(models.TextChoices):
        ORDER_OWNER = "owner", _("The order's owner")
        ROUND_ROBIN = "round_robin", _("Round-robin among a group (least booked first)")

    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("what the call is for"), max_length=300, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=30, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(_("free time before (minutes)"), default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(_("free time after (minutes)"), default=0)
    minimum_notice_minutes = models.PositiveIntegerField(_("minimum notice (minutes)"), default=240)
    days_ahead = models.PositiveSmallIntegerField(
        _("bookable this many days ahead"), default=30, validators=[MinValueValidator(1)]
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        _("a slot starts every (minutes)"), default=30, validators=[MinValueValidator(5)]
    )
    max_per_day = models.PositiveSmallIntegerField(
        _("at most this many per staff member and day"),
        null=True,
        blank=True,
        help_text=_("Empty: no limit."),
    )
    assignment = models.CharField(
        _("who takes the call"), max_length=12, choices=Assignment.choices, default=Assignment.ORDER_OWNER
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("group for round-robin"),
        blank=True,
        related_name="booking_types",
    )
    stage_key = models.SlugField(
        _("move the order to stage"),
        max_length=60,
        blank=True,
        help_text=_("Stage key, e.g. followup-call-scheduled; empty: the order stays where it is."),
    )
    change_until_hours = models.PositiveSmallIntegerField(
        _("client may reschedule or cancel until (hours before)"), default=24
    )
    invitation_valid_days = models.PositiveSmallIntegerField(_("booking link valid for (days)"), default=30)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("booking type")
        verbose_name_plural = _("booking types")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.buffer_after_minutes)


class BookingInvitation(models.Model):
    """A secure link that lets an order's client book (then reschedule or cancel) one call.

    The token is an HMAC of a random `salt` under the site's secret key, so e-mails can carry the link
    again later; the database holds the salt and the token's SHA-256 only (a copied table opens nothing).
    """

    order = models.ForeignKey("pipelines.Order", on_delete=models.CASCADE, related_name="booking_invitations")
    booking_type = models.ForeignKey(BookingType, on_delete=models.PROTECT, related_name="invitations")
    salt = models.CharField(max_length=32, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("booking invitation")
        verbose_name_plural = _("booking invitations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.booking_type} · {self.order_id}"

    def is_usable(self, now: datetime.datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())


class Booking(models.Model):
    """A call at a time with one staff member. Times are UTC; `blocked_*` include the buffers.

    Two confirmed bookings of one staff member never have overlapping blocked ranges: on PostgreSQL an
    exclusion constraint (migration 0001, operation AddExclusionConstraintOnPostgres) guarantees it; on
    SQLite book_slot checks inside an IMMEDIATE transaction, which serialises writers.
    """

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    invitation = models.ForeignKey(BookingInvitation, on_delete=models.CASCADE, related_name="bookings")
    order = models.ForeignKey("pipelines.Order", on_delete=models.CASCADE, related_name="bookings")
    booking_type = models.ForeignKey(BookingType, on_delete=models.PROTECT, related_name="bookings")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    blocked_from = models.DateTimeField()
    blocked_until = models.DateTimeField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    client_time_zone = models.CharField(_("client's time zone"), max_length=64)
    # Bumped on every reschedule; the .ics SEQUENCE, so calendar programs replace the old time.
    sequence = models.PositiveIntegerField(default=0)
    task = models.ForeignKey(
        "pipelines.StaffTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")), name="scheduling_booking_order"
            ),
            models.UniqueConstraint(
                fields=["invitation"],
                condition=models.Q(status="confirmed"),
                name="scheduling_one_booking_per_invitation",
            ),
        ]
        indexes = [
            models.Index(fields=["staff", "status", "starts_at"], name="scheduling_booking_staff"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} UTC · {self.staff}"

    @property
    def uid(self) -> str:
        """The iCalendar UID: stable across reschedules, so an invitation updates instead of duplicating."""
        return f"booking-{self.pk}@orderflow"

    @property
    def is_confirmed(self) -> bool:
        return self.status == self.Status.CONFIRMED


class CalendarFeed(models.Model):
    """A staff member's private .ics feed of their bookings; the URL carries a token whose hash is here."""

    staff = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    salt = models.CharField(max_length=32, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.staff)
