"""E-mail over SMTP: plain text and HTML, a Reply-To per order, List-Unsubscribe on non-transactional mail."""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from orderflow.accounts.models import Contact
from orderflow.notifications.channels import DeliveryError, PermanentDeliveryError
from orderflow.notifications.models import OutboxMessage

UNSUBSCRIBE_SALT = "orderflow.notifications.unsubscribe"

_shared_connection: ContextVar[BaseEmailBackend | None] = ContextVar("shared_smtp_connection", default=None)


@contextmanager
def reused_connection() -> Iterator[None]:
    """E-mail sent inside shares one SMTP connection (a worker's batch), opened on first use."""
    connection = get_connection()
    token = _shared_connection.set(connection)
    try:
        yield
    finally:
        _shared_connection.reset(token)
        connection.close()


def order_reply_address(reference: str) -> str:
    """orders+web-00042@… from the sender address, so a reply can be filed on its order."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    local, _at, domain = address.partition("@")
    return formataddr((name, f"{local}+{reference.lower()}@{domain}")) if domain else ""


def unsubscribe_url(contact_id: int) -> str:
    token = signing.dumps({"contact": contact_id}, salt=UNSUBSCRIBE_SALT)
    return settings.BASE_URL + reverse("notifications:unsubscribe", args=[token])


class EmailChannel:
    writes_database = False

    def address_for(self, contact: Contact) -> str | None:
        return contact.email or None

    def send(self, message: OutboxMessage) -> None:
        # The same Message-ID on every attempt: if a worker dies after the server took the message but
        # before the row says so, the copy sent again is recognised as the same message by mail clients.
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        headers = {"X-Orderflow-Message": message.idempotency_key, "Message-ID": f"<{digest}@orderflow>"}
        if not message.is_transactional and message.contact_id is not None:
            headers["List-Unsubscribe"] = f"<{unsubscribe_url(message.contact_id)}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            reply_to=[message.reply_to] if message.reply_to else None,
            headers=headers,
            connection=_shared_connection.get(),
        )
        if message.body_html:
            mail.attach_alternative(message.body_html, "text/html")
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentDeliveryError(f"SMTPRecipientsRefused: {error}") from error
        except (OSError, smtplib.SMTPException) as error:
            shared = _shared_connection.get()
            if shared is not None:
                shared.close()  # the next message of the batch connects afresh
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
