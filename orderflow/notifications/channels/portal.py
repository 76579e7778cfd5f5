"""The portal inbox: a notification row the client sees in the portal, with a read flag."""

from __future__ import annotations

from orderflow.accounts.models import Contact
from orderflow.notifications.channels import PermanentDeliveryError
from orderflow.notifications.models import InboxNotification, OutboxMessage


class PortalInboxChannel:
    writes_database = True

    def address_for(self, contact: Contact) -> str | None:
        return contact.name

    def send(self, message: OutboxMessage) -> None:
        if message.contact_id is None:
            raise PermanentDeliveryError("A portal notification needs a contact.")
        InboxNotification.objects.get_or_create(
            message=message,
            defaults={
                "contact_id": message.contact_id,
                "order_id": message.order_id,
                "title": message.subject,
                "body": message.body_text,
            },
        )
