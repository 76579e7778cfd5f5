"""E-mail over SMTP: plain text and HTML, attachments, a Reply-To per order, List-Unsubscribe on
non-transactional mail, and one Message-ID per outbox message whatever the attempt."""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from orderflow.accounts.models import Contact
from orderflow.notifications.channels import DeliveryError, PermanentDeliveryError
from orderflow.notifications.models import OutboxMessage

UNSUBSCRIBE_SALT = "orderflow.notifications.unsubscribe"

_shared_connection: ContextVar[BaseEmailBackend | None] = ContextVar("shared_smtp_connection", default=None)


@contextmanager
def reused_connection() -> Iterator[None]:
    """E-mail sent inside shares one SMTP connection (a worker's batch), opened on first use, so a
    batch of 25 costs one connect, EHLO and QUIT instead of 25; closed at the end."""
    connection = mailers.default
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


def message_id_for(idempotency_key: str) -> str:
    """The Message-ID header of the outbox message with this key, the same on every attempt."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@orderflow>"


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
        headers = {
            "X-Orderflow-Message": message.idempotency_key,
            "Message-ID": message_id_for(message.idempotency_key),
        }
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
        )
        if message.body_html:
            mail.attach_alternative(message.body_html, "text/html")
        if message.has_attachments:
            for attachment in message.attachments.all():
                mail.attach(attachment.filename, bytes(attachment.content), attachment.content_type)
        shared = _shared_connection.get()
        mailer = shared if shared is not None else mailers.default
        try:
            if shared is not None and getattr(shared, "connection", True) is None:
                # Opened here, not by send_messages(): a connection it opens, it closes at once.
                shared.open()
            mailer.send_messages([mail])
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentDeliveryError(f"SMTPRecipientsRefused: {error}") from error
        except (OSError, smtplib.SMTPException) as error:
            if shared is not None:
                shared.close()  # the next message of the batch connects afresh
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
