"""The client's portal inbox: marking notifications read."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from orderflow.accounts.models import Contact


@transaction.atomic
def mark_inbox_read(contact: Contact, *, notification_ids: Sequence[int] | None = None) -> int:
    """Mark the contact's unread notifications (all, or the given ones) read; returns how many."""
    from orderflow.notifications.models import InboxNotification

    unread = InboxNotification.objects.filter(contact=contact, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
