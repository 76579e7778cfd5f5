"""A phone call by a colleague: a task "Call … about …" with the script, on the order owner's list."""

from __future__ import annotations

from orderflow.accounts.models import Contact
from orderflow.errors import DomainError
from orderflow.notifications.channels import PermanentDeliveryError
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.services import create_task


class CallTaskChannel:
    writes_database = True

    def address_for(self, contact: Contact) -> str | None:
        return contact.phone or contact.name

    def send(self, message: OutboxMessage) -> None:
        order = message.order
        if order is None or order.owner is None:
            raise PermanentDeliveryError("A call task needs an order with an owner to give it to.")
        try:
            create_task(
                title=message.subject[:200],
                notes=message.body_text,
                assignee=order.owner,
                by=None,
                order=order,
            )
        except DomainError as error:
            raise PermanentDeliveryError(error.message) from error
