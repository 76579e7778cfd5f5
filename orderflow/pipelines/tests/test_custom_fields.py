"""Custom field values: what a rep may type, and what is refused with the field named."""

from decimal import Decimal

import pytest

from orderflow.pipelines.custom_fields import CustomFieldError, clean_values, display_value
from orderflow.pipelines.models import FieldDefinition

Kind = FieldDefinition.Kind


def _definitions() -> list[FieldDefinition]:
    return [
        FieldDefinition(key="domain", label="Domain name", kind=Kind.TEXT, is_required=True),
        FieldDefinition(key="pages", label="Pages", kind=Kind.NUMBER),
        FieldDefinition(key="budget", label="Budget", kind=Kind.MONEY),
        FieldDefinition(key="launch", label="Launch date", kind=Kind.DATE),
        FieldDefinition(key="package", label="Package", kind=Kind.CHOICE, choices=["Basic", "Pro"]),
        FieldDefinition(key="site", label="Live site", kind=Kind.URL),
    ]


def test_values_are_stored_in_one_canonical_form():
    cleaned = clean_values(
        _definitions(),
        {
            "domain": "  bakery.pt ",
            "pages": "12,5",
            "budget": {"amount": "1500.5", "currency": "usd"},
            "launch": "2026-12-20",
            "package": "Pro",
            "site": "https://bakery.pt",
        },
    )
    assert cleaned == {
        "domain": "bakery.pt",
        "pages": "12.5",
        "budget": {"amount": "1500.50", "currency": "USD"},
        "launch": "2026-12-20",
        "package": "Pro",
        "site": "https://bakery.pt",
    }


def test_money_without_currency_takes_the_pipelines_currency():
    cleaned = clean_values(
        _definitions(), {"domain": "x.pt", "budget": Decimal("10")}, default_currency="BRL"
    )
    assert cleaned["budget"] == {"amount": "10.00", "currency": "BRL"}


def test_every_wrong_value_is_named_at_once():
    with pytest.raises(CustomFieldError) as refused:
        clean_values(
            _definitions(),
            {
                "domain": "",
                "pages": "many",
                "launch": "20/12/2026",
                "package": "Gold",
                "site": "javascript:alert(1)",
            },
        )
    assert set(refused.value.errors) == {"domain", "pages", "launch", "package", "site"}
    assert "required" in refused.value.errors["domain"]


def test_an_unknown_field_is_refused_rather_than_dropped():
    with pytest.raises(CustomFieldError) as refused:
        clean_values(_definitions(), {"domain": "x.pt", "colour": "red"})
    assert "colour" in refused.value.errors


def test_negative_money_and_infinite_numbers_are_refused():
    with pytest.raises(CustomFieldError) as refused:
        clean_values(_definitions(), {"domain": "x.pt", "budget": "-5", "pages": "Infinity"})
    assert set(refused.value.errors) == {"budget", "pages"}


def test_required_can_be_relaxed_for_partial_saves():
    assert clean_values(_definitions(), {}, enforce_required=False) == {}


def test_money_displays_with_its_currency():
    budget = _definitions()[2]
    assert display_value(budget, {"amount": "10.00", "currency": "EUR"}) == "10.00 EUR"
    assert display_value(budget, None) == ""
