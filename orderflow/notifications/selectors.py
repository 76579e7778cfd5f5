"""Reads of notifications: delivery logs for staff and the client's inbox."""

from __future__ import annotations

from django.db.models import QuerySet

from orderflow.accounts.models import Contact
from orderflow.notifications.models import InboxNotification, OutboxMessage
from orderflow.pipelines.models import Order


def messages_for_order(order: Order) -> QuerySet[OutboxMessage]:
    """The order's messages, newest first, for its delivery log (queued, waiting, sent, failed)."""
    return OutboxMessage.objects.filter(order=order).select_related("contact").order_by("-created_at", "-id")


def delivery_log(*, status: str = "", channel: str = "", search: str = "") -> QuerySet[OutboxMessage]:
    """Every message, newest first, optionally one status, one channel, or a recipient/subject match."""
    messages = OutboxMessage.objects.select_related("contact", "order__pipeline").order_by(
        "-created_at", "-id"
    )
    if status:
        messages = messages.filter(status=status)
    if channel:
        messages = messages.filter(channel=channel)
    if search:
        from django.db.models import Q

        messages = messages.filter(Q(recipient__icontains=search) | Q(subject__icontains=search))
    return messages


def inbox_of(contact: Contact) -> QuerySet[InboxNotification]:
    return InboxNotification.objects.filter(contact=contact).select_related("order__pipeline")


def unread_count(contact: Contact) -> int:
    """How many portal notifications the contact has not opened yet (for the badge)."""
    return InboxNotification.objects.filter(contact=contact, read_at__isnull=True).count()
