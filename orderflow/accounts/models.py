"""Users (who log in), contacts (whom orders are for) and the organisation's own settings."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone name such as Europe/Lisbon."), params={"value": value}
        )


# E.164-ish: a plus, a country code and 7 to 15 digits in all; spaces, dots, dashes and brackets are
# tolerated when typed and removed by `normalise_phone`.
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_phone(value: str) -> str:
    """The phone number as +<digits>, or "" for an empty one. Does not validate."""
    return _PHONE_SEPARATORS.sub("", value or "")


def validate_phone(value: str) -> None:
    if value and not _E164.match(normalise_phone(value)):
        raise ValidationError(
            _("%(value)s is not a phone number in international form such as +351 912 345 678."),
            params={"value": value},
        )


def default_delivery_days() -> list[int]:
    return [0, 1, 2, 3, 4, 5, 6]


def empty_list() -> list[str]:
    """An empty list (a callable default, so rows never share one list)."""
    return []


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    PORTUGUESE = "pt", _("Portuguese")
    RUSSIAN = "ru", _("Russian")


# Each language named in itself (never translated), as people look for their own one in a list.
LANGUAGE_NAMES: dict[str, str] = {
    Language.ENGLISH: "English",
    Language.PORTUGUESE: "Português",
    Language.RUSSIAN: "Русский",
}


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who logs in: staff (admin, manager, rep), a contractor or a client. Login is by e-mail."""

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("May use the staff workspace and the admin site.")
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]

    def clean(self) -> None:
        super().clean()
        self.email = self.email.lower()

    def has_role(self, role: str) -> bool:
        return self.groups.filter(name=role).exists()


class Contact(models.Model):
    """A client person or company the business works for. May exist without a login."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        MESSENGER = "messenger", _("Messenger")
        CALL = "call", _("Phone call")
        PORTAL = "portal", _("Portal only")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    company = models.ForeignKey(
        "self",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
        limit_choices_to={"kind": "company"},
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[validate_phone])
    messenger_id = models.CharField(
        _("messenger address"),
        max_length=120,
        blank=True,
        help_text=_("The client's chat id or user name on the messenger the business uses."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=16, choices=Channel.choices, default=Channel.EMAIL
    )
    # Notification preferences (used by orderflow.notifications): channels in order of fallback, the
    # hours and weekdays the client may be contacted in their own time zone, and what they refused.
    channels = models.JSONField(
        _("channels, in order of preference"),
        default=empty_list,
        blank=True,
        help_text=_("Empty: the preferred channel, then e-mail."),
    )
    # Equal start and end: any time of day (no quiet hours until the client says otherwise).
    delivery_window_start = models.TimeField(_("contact from"), default=datetime.time(0, 0))
    delivery_window_end = models.TimeField(_("contact until"), default=datetime.time(0, 0))
    delivery_days = models.JSONField(
        _("days to contact"), default=default_delivery_days, blank=True, help_text=_("0 = Monday.")
    )
    opted_out_channels = models.JSONField(_("channels refused"), default=empty_list, blank=True)
    marketing_opt_out = models.BooleanField(
        _("no offers"), default=False, help_text=_("Never send this client offers or upsell content.")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "id"]
        indexes = [
            models.Index(Lower("email"), name="accounts_contact_email_ci"),
            # The contact list and picker read contacts by name, a page or 20 at a time.
            models.Index(fields=["name", "id"], name="accounts_contact_by_name"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="company") | models.Q(company__isnull=True),
                name="accounts_contact_company_has_no_company",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def channel_order(self) -> list[str]:
        """The channels to try, best first, without the refused ones (may be empty)."""
        ordered = list(self.channels or [self.preferred_channel, self.Channel.EMAIL])
        refused = set(self.opted_out_channels or [])
        return [channel for channel in dict.fromkeys(ordered) if channel not in refused]


def default_work_days() -> list[int]:
    return [0, 1, 2, 3, 4]


class Organisation(models.Model):
    """The business running this installation: one row (pk=1). Its zone, language and business calendar."""

    name = models.CharField(_("name"), max_length=200, default="My agency")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    language = models.CharField(
        _("default language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    # The business calendar: which weekdays are worked (0 = Monday) and whose public holidays apply.
    work_days = models.JSONField(_("work days"), default=default_work_days)
    holiday_country = models.CharField(
        _("public holidays of"),
        max_length=3,
        blank=True,
        help_text=_("Country code such as US or PT; empty: none."),
    )
    holiday_subdivision = models.CharField(
        _("region"), max_length=10, blank=True, help_text=_("State or region code, e.g. CA or 11 (Lisbon).")
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisation")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="accounts_organisation_singleton")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        from orderflow.accounts.business_calendar import check_calendar_settings

        check_calendar_settings(self.work_days, self.holiday_country, self.holiday_subdivision)

    @classmethod
    def current(cls) -> Organisation:
        organisation, _created = cls.objects.get_or_create(pk=1)
        return organisation


class ClosingDay(models.Model):
    """A day the organisation is closed besides weekends and public holidays (e.g. a company retreat)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("reason"), max_length=120)

    class Meta:
        verbose_name = _("closing day")
        verbose_name_plural = _("closing days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"
