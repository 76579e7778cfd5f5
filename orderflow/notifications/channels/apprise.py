"""SMS and messengers through Apprise: an admin sets one URL per channel, `{phone}`/`{messenger}` filled in."""

from __future__ import annotations

import logging
from urllib.parse import quote

import apprise
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, normalise_phone
from orderflow.notifications.channels import DeliveryError, PermanentDeliveryError
from orderflow.notifications.models import AppriseEndpoint, OutboxMessage

_SAMPLE = {"phone": "+351912345678", "messenger": "123456789"}


def expand_url(url: str, *, recipient: str) -> str:
    """The endpoint URL with the recipient put in place of {phone} and {messenger}, URL-encoded."""
    quoted = quote(recipient, safe="")
    return url.replace("{phone}", quoted).replace("{messenger}", quoted)


def check_apprise_url(url: str) -> None:
    """ValueError with a message for staff when Apprise's own parser does not accept the URL."""
    candidate = expand_url(url.strip(), recipient=_SAMPLE["phone"])
    if not candidate or apprise.Apprise.instantiate(candidate) is None:
        raise ValueError(
            _(
                "Apprise does not understand this URL. Use a service URL such as "
                "twilio://SID:TOKEN@+15550001111/{phone} or json://host/path."
            )
        )


class AppriseChannel:
    writes_database = False

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def _endpoint(self) -> AppriseEndpoint | None:
        return AppriseEndpoint.objects.filter(channel=self.channel, is_active=True).first()

    def address_for(self, contact: Contact) -> str | None:
        address = normalise_phone(contact.phone) if self.channel == "sms" else contact.messenger_id.strip()
        if not address or self._endpoint() is None:
            return None
        return address

    def send(self, message: OutboxMessage) -> None:
        endpoint = self._endpoint()
        if endpoint is None:
            raise PermanentDeliveryError(f"No active {self.channel} service is configured.")
        client = apprise.Apprise()
        if not client.add(expand_url(endpoint.url, recipient=message.recipient)):
            raise PermanentDeliveryError(f"Apprise refused the {self.channel} service URL.")
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
            result = client.notify(title=message.subject, body=message.body_text)
        if not result:  # an AppriseResult: false on failure or when no service matched
            detail = " ".join(str(log.getvalue()).split()) or str(getattr(result, "status", "failure"))
            raise DeliveryError(f"Apprise: {detail}")
