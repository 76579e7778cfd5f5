"""The texts rules and reminders send: pick the client's language and fill in the placeholders."""

from __future__ import annotations

from typing import Any

from orderflow.accounts.models import Organisation
from orderflow.pipelines.models import Order


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def placeholder_values(order: Order, **extra: Any) -> dict[str, Any]:
    """{client_name}, {order_number}, {order_title}, {stage}, {owner_name}, {organisation} (+ extra)."""
    language = order.client.language
    return {
        "client_name": order.client.name,
        "order_number": order.reference,
        "order_title": order.title,
        "stage": order.stage.label_for_client_in(language),
        "owner_name": order.owner.get_full_name() if order.owner else "",
        "organisation": Organisation.current().name,
        **extra,
    }


def in_language(texts: dict[str, str], language: str) -> str:
    """The text in `language`, else English (definitions always have English)."""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


def fill(text: str, values: dict[str, Any]) -> str:
    """`text` with its {placeholders} filled in; an unknown one becomes empty rather than failing a send."""
    return text.format_map(_Blank(values))
