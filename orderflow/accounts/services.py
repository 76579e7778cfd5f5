"""Writes of the accounts app: contacts (the clients orders are for), the organisation's own settings and a
staff member's own account (name, language, time zone)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orderflow.accounts.models import (
    ClosingDay,
    Contact,
    Language,
    Organisation,
    User,
    normalise_phone,
    validate_phone,
    validate_time_zone,
)
from orderflow.errors import DomainError


class OrganisationSettingsError(DomainError):
    """Settings that cannot be saved; `errors` maps setting names to messages."""

    code = "organisation_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


def _check_permission(by: User | None) -> None:
    if by is not None and not by.has_perm("accounts.change_organisation"):
        raise DomainError(
            _("Only an administrator may change the organisation's settings."), code="forbidden"
        )


@transaction.atomic
def update_business_calendar(
    *,
    by: User | None,
    time_zone: str,
    work_days: list[int],
    holiday_country: str,
    holiday_subdivision: str,
) -> Organisation:
    """Save the calendar settings after checking all of them; nothing is saved if one is wrong."""
    _check_permission(by)
    organisation = Organisation.current()
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    locked.time_zone = time_zone.strip()
    locked.work_days = sorted(set(work_days))
    locked.holiday_country = holiday_country.strip().upper()
    locked.holiday_subdivision = holiday_subdivision.strip().upper()
    try:
        locked.full_clean()
    except ValidationError as error:
        raise OrganisationSettingsError(
            {field: " ".join(messages) for field, messages in error.message_dict.items()}
        ) from None
    locked.save()
    return locked


def add_closing_day(*, by: User | None, date: datetime.date, name: str) -> ClosingDay:
    _check_permission(by)
    name = name.strip()
    if not name:
        raise OrganisationSettingsError({"name": _("Say why the organisation is closed that day.")})
    try:
        with transaction.atomic():
            return ClosingDay.objects.create(date=date, name=name[:120])
    except IntegrityError:
        raise OrganisationSettingsError(
            {"date": _("%(date)s is already a closing day.") % {"date": date.isoformat()}}
        ) from None


def remove_closing_day(day: ClosingDay, *, by: User | None) -> None:
    _check_permission(by)
    ClosingDay.objects.filter(pk=day.pk).delete()


# --- contacts -------------------------------------------------------------------------------------


class ContactInputError(DomainError):
    """A contact that cannot be saved as given; `errors` maps detail names to messages. Nothing was saved."""

    code = "contact_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(" ".join(errors.values()))


@dataclass(frozen=True)
class ContactDetails:
    """What staff say about a client: who (a person, maybe of a company, or a company) and how to reach them."""

    name: str
    kind: str = Contact.Kind.PERSON
    company: Contact | None = None
    email: str = ""
    phone: str = ""
    messenger_id: str = ""
    language: str = Language.ENGLISH
    time_zone: str = "UTC"
    preferred_channel: str = Contact.Channel.EMAIL


# What a preferred channel needs to reach the client, by channel.
_CHANNEL_NEEDS: dict[str, str] = {
    Contact.Channel.EMAIL: "email",
    Contact.Channel.SMS: "phone",
    Contact.Channel.CALL: "phone",
    Contact.Channel.MESSENGER: "messenger_id",
}


def check_contact_details(
    details: ContactDetails, *, has_login: bool = False
) -> tuple[ContactDetails, dict[str, str]]:
    """Tidy (trim, lower-case e-mail, phone as +digits) and check the details without touching the database.

    Returns the tidied details and a dict of detail name → message (empty when all is well).
    """
    details = replace(
        details,
        name=details.name.strip(),
        email=details.email.strip().lower(),
        phone=normalise_phone(details.phone.strip()),
        messenger_id=details.messenger_id.strip(),
        time_zone=details.time_zone.strip(),
    )
    errors: dict[str, str] = {}
    if not details.name:
        errors["name"] = _("Give the contact a name.")
    elif len(details.name) > 200:
        errors["name"] = _("At most %(count)d characters.") % {"count": 200}
    if details.kind not in Contact.Kind.values:
        errors["kind"] = _("A contact is a person or a company.")
    if details.company is not None:
        if details.kind == Contact.Kind.COMPANY:
            errors["company"] = _("A company cannot belong to another company.")
        elif details.company.kind != Contact.Kind.COMPANY:
            errors["company"] = _("“%(name)s” is a person, not a company.") % {"name": details.company.name}
    if details.email:
        try:
            validate_email(details.email)
        except ValidationError:
            errors["email"] = _("“%(email)s” is not an e-mail address.") % {"email": details.email}
    for name, validator in (("phone", validate_phone), ("time_zone", validate_time_zone)):
        try:
            validator(getattr(details, name))
        except ValidationError as error:
            errors[name] = " ".join(error.messages)
    if not details.time_zone:
        errors["time_zone"] = _("Give the contact's time zone, e.g. Europe/Lisbon.")
    if len(details.messenger_id) > 120:
        errors["messenger_id"] = _("At most %(count)d characters.") % {"count": 120}
    if details.language not in Language.values:
        errors["language"] = _("Pick one of the languages.")
    channel = details.preferred_channel
    if channel not in Contact.Channel.values:
        errors["preferred_channel"] = _("Pick one of the channels.")
    elif (needed := _CHANNEL_NEEDS.get(channel)) and not getattr(details, needed) and needed not in errors:
        errors["preferred_channel"] = {
            "email": _("To reach the client by e-mail, give their e-mail address."),
            "phone": _("To reach the client by SMS or phone, give their phone number."),
            "messenger_id": _("To reach the client by messenger, give their messenger address."),
        }[needed]
    elif channel == Contact.Channel.PORTAL and not has_login:
        errors["preferred_channel"] = _("The client has no portal login yet; pick another channel.")
    return details, errors


def _contact_permission(by: User | None, permission: str) -> None:
    if by is not None and not by.has_perm(permission):
        raise DomainError(_("You may not change contacts."), code="forbidden")


def _same_email(email: str, *, exclude: int | None) -> Contact | None:
    if not email:
        return None
    others = Contact.objects.filter(email__iexact=email)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    return others.order_by("id").first()


def _apply_contact_details(contact: Contact, details: ContactDetails) -> list[str]:
    columns = {
        "name": details.name,
        "kind": details.kind,
        "company": details.company,
        "email": details.email,
        "phone": details.phone,
        "messenger_id": details.messenger_id,
        "language": details.language,
        "time_zone": details.time_zone,
        "preferred_channel": details.preferred_channel,
    }
    for name, value in columns.items():
        setattr(contact, name, value)
    return list(columns)


def _checked(details: ContactDetails, *, contact: Contact | None) -> ContactDetails:
    """The tidied details, or ContactInputError with every problem (duplicates included)."""
    details, errors = check_contact_details(
        details, has_login=contact is not None and contact.user_id is not None
    )
    if "email" not in errors and (
        other := _same_email(details.email, exclude=contact.pk if contact else None)
    ):
        errors["email"] = _("“%(name)s” already has the e-mail address %(email)s.") % {
            "name": other.name,
            "email": details.email,
        }
    if contact is not None and details.company is not None and details.company.pk == contact.pk:
        errors["company"] = _("A contact cannot belong to itself.")
    if (
        contact is not None
        and details.kind == Contact.Kind.PERSON
        and contact.kind == Contact.Kind.COMPANY
        and (members := contact.people.count())
    ):
        errors["kind"] = ngettext(
            "%(count)d person belongs to this company; it stays a company.",
            "%(count)d people belong to this company; it stays a company.",
            members,
        ) % {"count": members}
    if errors:
        raise ContactInputError(errors)
    return details


@transaction.atomic
def create_contact(details: ContactDetails, *, by: User | None) -> Contact:
    """A new client person or company. The e-mail address, if given, must not be another contact's.

    The duplicate check is not a database constraint: imported address books do hold shared
    addresses, and the check guards what staff type, which is where duplicates come from.
    """
    _contact_permission(by, "accounts.add_contact")
    details = _checked(details, contact=None)
    contact = Contact()
    _apply_contact_details(contact, details)
    contact.save()
    return contact


@transaction.atomic
def update_contact(contact: Contact, details: ContactDetails, *, by: User | None) -> Contact:
    """Change a contact's details; the same checks as create_contact, all or nothing."""
    _contact_permission(by, "accounts.change_contact")
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    details = _checked(details, contact=locked)
    locked.save(update_fields=_apply_contact_details(locked, details))
    _apply_contact_details(contact, details)
    return contact


# --- a staff member's own account -----------------------------------------------------------------


class AccountSettingsError(DomainError):
    """Account settings that cannot be saved; `errors` maps setting names to messages. Nothing was saved."""

    code = "account_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(" ".join(errors.values()))


def check_account_settings(*, full_name: str, language: str, time_zone: str) -> dict[str, str]:
    """Setting name → message for each setting that cannot be saved (empty when all is well); no I/O."""
    errors: dict[str, str] = {}
    if len(full_name) > 200:
        errors["full_name"] = _("At most %(count)d characters.") % {"count": 200}
    if language not in Language.values:
        errors["language"] = _("Pick one of the languages.")
    if not time_zone:
        errors["time_zone"] = _("Give your time zone, e.g. Europe/Lisbon.")
    else:
        try:
            validate_time_zone(time_zone)
        except ValidationError as error:
            errors["time_zone"] = " ".join(error.messages)
    return errors


@transaction.atomic
def update_own_account(user: User, *, full_name: str, language: str, time_zone: str) -> User:
    """Save the user's own name, language and time zone, all or nothing (AccountSettingsError).

    The language is the one of their pages (the caller sets the language cookie) and e-mails; the zone
    is the one their pages show times in (the user_time_zone middleware), from their next request on.
    """
    full_name, time_zone = full_name.strip(), time_zone.strip()
    errors = check_account_settings(full_name=full_name, language=language, time_zone=time_zone)
    if errors:
        raise AccountSettingsError(errors)
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.full_name, locked.language, locked.time_zone = full_name, language, time_zone
    locked.save(update_fields=["full_name", "language", "time_zone"])
    user.full_name, user.language, user.time_zone = full_name, language, time_zone
    return user
