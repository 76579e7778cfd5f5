"""How a contact wants to hear from the business: channels, hours, days and refusals (one service)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, User, normalise_phone, validate_phone
from orderflow.errors import DomainError
from orderflow.notifications.models import Channel, PreferenceChange, UnsubscribedAddress


class PreferenceError(DomainError):
    """A preference that cannot be saved; `field` names the input to show it next to."""

    code = "preferences_invalid"

    def __init__(self, message: str, *, field: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


def check_preferences(
    *,
    channels: Sequence[str],
    opted_out_channels: Sequence[str],
    email: str,
    phone: str,
    window_start: datetime.time,
    window_end: datetime.time,
    days: Sequence[int],
) -> None:
    """Raise PreferenceError for the first thing wrong; checks need no database."""
    known = set(Channel.values)
    unknown = [channel for channel in [*channels, *opted_out_channels] if channel not in known]
    if unknown:
        raise PreferenceError(
            _("Unknown channel: %(channel)s.") % {"channel": unknown[0]},
            field="channels",
            code="channel_unknown",
        )
    if channels and not [channel for channel in channels if channel not in opted_out_channels]:
        raise PreferenceError(
            _("Keep at least one channel the client has not refused."), field="channels", code="no_channel"
        )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise PreferenceError(
                _("%(value)s is not an e-mail address.") % {"value": email},
                field="email",
                code="email_invalid",
            ) from None
    try:
        validate_phone(phone)
    except ValidationError as error:
        raise PreferenceError(error.messages[0], field="phone", code="phone_invalid") from None
    if Channel.SMS in channels and Channel.SMS not in opted_out_channels and not phone:
        raise PreferenceError(
            _("Add a phone number to send the client SMS."), field="phone", code="phone_missing"
        )
    if window_end < window_start:
        raise PreferenceError(
            _("The end of the contact hours must be after their start (the same time means any time)."),
            field="delivery_window_end",
            code="window_empty",
        )
    if not days or any(day not in range(7) for day in days):
        raise PreferenceError(
            _("Choose at least one day on which the client may be contacted."),
            field="delivery_days",
            code="days_empty",
        )


# The fields of a contact the preferences service writes, as recorded in PreferenceChange.changes.
AUDITED_FIELDS = (
    "channels",
    "opted_out_channels",
    "phone",
    "messenger_id",
    "delivery_window_start",
    "delivery_window_end",
    "delivery_days",
    "time_zone",
    "language",
    "marketing_opt_out",
)


def _audit_value(contact: Contact, field: str) -> object:
    """The field's value as JSON; an empty channel list as what it means (preferred, then e-mail)."""
    value = getattr(contact, field)
    if field == "channels" and not value:
        return list(dict.fromkeys([contact.preferred_channel, Channel.EMAIL]))
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, list):
        return list(value)
    return value


def _snapshot(contact: Contact) -> dict[str, object]:
    return {field: _audit_value(contact, field) for field in AUDITED_FIELDS}


def _record_change(
    contact: Contact, before: dict[str, object], *, by: User | None, source: str
) -> PreferenceChange | None:
    """A PreferenceChange with what differs from `before`; none when nothing did (a double submit)."""
    after = _snapshot(contact)
    changes = {
        field: [before[field], after[field]] for field in AUDITED_FIELDS if before[field] != after[field]
    }
    if not changes:
        return None
    return PreferenceChange.objects.create(contact=contact, source=source, changed_by=by, changes=changes)


def _unsubscribe_address(contact: Contact) -> None:
    """Remember the contact's e-mail address as refusing offers (held back even when queued to the
    address alone, or to another contact sharing it)."""
    if contact.email:
        UnsubscribedAddress.objects.get_or_create(
            email=contact.email.strip().lower(), defaults={"contact": contact}
        )


@transaction.atomic
def update_contact_preferences(
    contact: Contact,
    *,
    by: User | None,
    channels: Sequence[str],
    opted_out_channels: Sequence[str] = (),
    phone: str | None = "",
    messenger_id: str | None = "",
    window_start: datetime.time = datetime.time(0, 0),
    window_end: datetime.time = datetime.time(0, 0),
    days: Sequence[int] = tuple(range(7)),
    marketing_opt_out: bool = False,
    time_zone: str | None = None,
    language: str | None = None,
    source: str | None = None,
) -> Contact:
    """Save how the contact wants to be reached. Validates everything first; saves nothing on error.

    `channels` is the order to try them in; the first becomes the contact's preferred channel.
    `phone`, `messenger_id`, `time_zone` and `language` given as None keep what the contact has (the
    client's own page does not edit the addresses). `by` is the staff member, `source` who acted
    (PreferenceChange.Source; default staff when `by` is given, else "not by a person"): what
    changed is recorded as a PreferenceChange, nothing when nothing changed. Turning "no offers" on
    is the unsubscribe (the address too); turning it off lifts the address's unsubscribe.
    """
    source = source or (PreferenceChange.Source.STAFF if by is not None else PreferenceChange.Source.SYSTEM)
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    before = _snapshot(locked)
    channels = list(dict.fromkeys(channels))
    opted_out = sorted(set(opted_out_channels))
    phone = locked.phone if phone is None else normalise_phone(phone.strip())
    check_preferences(
        channels=channels,
        opted_out_channels=opted_out,
        email=locked.email,
        phone=phone,
        window_start=window_start,
        window_end=window_end,
        days=list(days),
    )
    was_opted_out = locked.marketing_opt_out
    locked.channels = channels
    if channels:
        locked.preferred_channel = channels[0]
    locked.opted_out_channels = opted_out
    locked.phone = phone
    if messenger_id is not None:
        locked.messenger_id = messenger_id.strip()
    locked.delivery_window_start = window_start
    locked.delivery_window_end = window_end
    locked.delivery_days = sorted(set(days))
    locked.marketing_opt_out = marketing_opt_out
    fields = [
        "channels",
        "preferred_channel",
        "opted_out_channels",
        "phone",
        "messenger_id",
        "delivery_window_start",
        "delivery_window_end",
        "delivery_days",
        "marketing_opt_out",
    ]
    if time_zone is not None:
        locked.time_zone = time_zone
        fields.append("time_zone")
    if language is not None:
        locked.language = language
        fields.append("language")
    try:
        locked.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise PreferenceError(messages[0], field=field, code="contact_invalid") from None
    locked.save(update_fields=fields)
    if marketing_opt_out and not was_opted_out:
        _unsubscribe_address(locked)
    if was_opted_out and not marketing_opt_out and locked.email:
        # Offers allowed again (the client or staff said so): the address's unsubscribe goes too.
        UnsubscribedAddress.objects.filter(email=locked.email.strip().lower()).delete()
    _record_change(locked, before, by=by, source=source)
    return locked


@transaction.atomic
def unsubscribe_from_offers(contact_id: int) -> Contact:
    """The client's one-click unsubscribe: no more offers or feedback requests. Repeating it is harmless.

    The contact's e-mail address is remembered as unsubscribed too, so mail queued to the address
    alone (or to another contact with the same address) is held back as well. Messages already
    queued are checked again when due and suppressed then.
    """
    locked = Contact.objects.select_for_update().get(pk=contact_id)
    if not locked.marketing_opt_out:
        before = _snapshot(locked)
        locked.marketing_opt_out = True
        locked.save(update_fields=["marketing_opt_out"])
        _record_change(locked, before, by=None, source=PreferenceChange.Source.UNSUBSCRIBE)
    _unsubscribe_address(locked)
    return locked
