"""Writes to the organisation's own settings: its name, time zone and business calendar."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from orderflow.accounts.models import ClosingDay, Organisation, User
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
