"""Parsing and checking the values of a pipeline's custom fields.

Values are stored in Order.fields as JSON: text, url and choice as strings, numbers as decimal strings,
dates as ISO strings, money as {"amount": "12.50", "currency": "EUR"}. Parsing accepts what a form or
the API sends and returns that canonical form, or raises CustomFieldError naming the field.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from orderflow.errors import DomainError
from orderflow.pipelines.models import FieldDefinition

Kind = FieldDefinition.Kind
MAX_TEXT = 2000


class CustomFieldError(DomainError):
    """One or more field values are wrong; `errors` maps field keys to messages."""

    code = "field_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))


def is_empty(value: Any) -> bool:
    if isinstance(value, dict):
        return is_empty(value.get("amount"))
    return value is None or (isinstance(value, str) and not value.strip())


def parse_value(definition: FieldDefinition, raw: Any, *, default_currency: str = "EUR") -> Any:
    """The canonical stored form of `raw` for `definition`, None when empty; ValueError with a message."""
    if is_empty(raw):
        return None
    kind = definition.kind
    if kind == Kind.TEXT:
        text = str(raw).strip()
        if len(text) > MAX_TEXT:
            raise ValueError(_("At most %(count)d characters.") % {"count": MAX_TEXT})
        return text
    if kind == Kind.NUMBER:
        return str(_decimal(raw))
    if kind == Kind.MONEY:
        amount, currency = (raw.get("amount"), raw.get("currency")) if isinstance(raw, dict) else (raw, None)
        currency = str(currency or default_currency).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValueError(_("Use a three-letter currency code such as EUR."))
        value = _decimal(amount)
        if value < 0:
            raise ValueError(_("An amount cannot be negative."))
        return {"amount": str(value.quantize(Decimal("0.01"))), "currency": currency}
    if kind == Kind.DATE:
        if isinstance(raw, datetime.date):
            return raw.isoformat()
        try:
            return datetime.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
    if kind == Kind.CHOICE:
        text = str(raw).strip()
        if text not in (definition.choices or []):
            raise ValueError(
                _("Pick one of: %(choices)s.") % {"choices": ", ".join(definition.choices or [])}
            )
        return text
    if kind == Kind.URL:
        text = str(raw).strip()
        try:
            URLValidator(schemes=["http", "https"])(text)
        except ValidationError:
            raise ValueError(_("Enter a full link starting with https://.")) from None
        return text
    raise ValueError(f"unknown field type {kind!r}")


def _decimal(raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(_("Enter a number.")) from None
    if not value.is_finite():
        raise ValueError(_("Enter a number."))
    return value


def clean_values(
    definitions: list[FieldDefinition],
    raw: dict[str, Any],
    *,
    default_currency: str = "EUR",
    enforce_required: bool = True,
) -> dict[str, Any]:
    """Validate every value in `raw` against `definitions`; returns the canonical dict without empties.

    Unknown keys are refused, so a typo never silently drops data.
    """
    by_key = {d.key: d for d in definitions}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for key in raw:
        if key not in by_key:
            errors[key] = _("This pipeline has no field “%(key)s”.") % {"key": key}
    for key, definition in by_key.items():
        try:
            value = parse_value(definition, raw.get(key), default_currency=default_currency)
        except ValueError as error:
            errors[key] = str(error)
            continue
        if value is None:
            if enforce_required and definition.is_required:
                errors[key] = _("“%(label)s” is required.") % {"label": definition.label}
            continue
        cleaned[key] = value
    if errors:
        raise CustomFieldError(errors)
    return cleaned


def money_text(amount: Any, currency: str) -> str:
    """An amount with its currency as people read it in the active language, two decimals, as an
    order's details show its value ('2900,00 EUR' in Russian, '2900.00 EUR' in English)."""
    try:
        number = Decimal(str(amount))
    except InvalidOperation:
        return f"{amount} {currency}".strip()
    return f"{number_format(number, decimal_pos=2)} {currency}".strip()


def display_value(definition: FieldDefinition, value: Any) -> str:
    """A stored value as people read it (money with its currency, in the active language)."""
    if value is None:
        return ""
    if definition.kind == Kind.MONEY and isinstance(value, dict):
        return money_text(value.get("amount"), value.get("currency") or "")
    return str(value)
