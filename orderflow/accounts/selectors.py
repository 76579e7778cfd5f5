"""Reads of contacts for the staff pages: the contact list and the picker that finds a client by typing."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from orderflow.accounts.models import Contact

# The picker shows at most this many matches; people type more to narrow it down.
PICKER_LIMIT = 20


def contacts_matching(text: str, *, kind: str = "") -> QuerySet[Contact]:
    """Contacts whose name or e-mail contains `text` (any case), by name; all of them for empty text."""
    contacts = Contact.objects.select_related("company")
    if kind in Contact.Kind.values:
        contacts = contacts.filter(kind=kind)
    text = text.strip()
    if text:
        contacts = contacts.filter(Q(name__icontains=text) | Q(email__icontains=text))
    return contacts.order_by("name", "id")


def contacts_for_picker(text: str, *, kind: str = "", limit: int = PICKER_LIMIT) -> list[Contact]:
    """At most `limit` matches for the picker (one query, whatever the number of contacts)."""
    return list(contacts_matching(text, kind=kind)[:limit])
