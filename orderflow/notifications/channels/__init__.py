"""Channel adapters: one small class per way of reaching someone, all behind the `ChannelAdapter` protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from orderflow.accounts.models import Contact
    from orderflow.notifications.models import OutboxMessage


class DeliveryError(Exception):
    """The far end did not take the message this time (timeout, refusal, HTTP error): try again later."""


class PermanentDeliveryError(DeliveryError):
    """Trying again cannot help (no address, no service configured): fall back to the next channel."""


class ChannelAdapter(Protocol):
    """Delivers one outbox message. `send` raises DeliveryError, never returns a failure."""

    #: True when delivering is a write to our own database (inbox, task); it then happens in the same
    #: transaction that marks the message sent, so it happens exactly once.
    writes_database: bool

    def address_for(self, contact: Contact) -> str | None:
        """Where this contact is reached on this channel, or None when they cannot be."""
        ...

    def send(self, message: OutboxMessage) -> None: ...


def adapter_for(channel: str) -> ChannelAdapter:
    from orderflow.notifications.channels.apprise import AppriseChannel
    from orderflow.notifications.channels.call import CallTaskChannel
    from orderflow.notifications.channels.email import EmailChannel
    from orderflow.notifications.channels.portal import PortalInboxChannel

    adapters: dict[str, ChannelAdapter] = {
        "email": EmailChannel(),
        "sms": AppriseChannel("sms"),
        "messenger": AppriseChannel("messenger"),
        "portal": PortalInboxChannel(),
        "call": CallTaskChannel(),
    }
    return adapters[channel]
