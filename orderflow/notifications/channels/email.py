"""E-mail over SMTP: plain text and HTML, attachments, a Reply-To per order, List-Unsubscribe on
non-transactional mail, the "Your message settings" link at the foot of every e-mail to a contact, and
one Message-ID (and one body) per outbox message whatever the attempt."""

from __future__ import annotations

import datetime
import hashlib
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact
from orderflow.notifications import contact_links
from orderflow.notifications.channels import DeliveryError, PermanentDeliveryError
from orderflow.notifications.models import OutboxMessage

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


def unsubscribe_url(contact_id: int, *, issued_at: datetime.datetime | None = None) -> str:
    return contact_links.contact_link(contact_id, contact_links.UNSUBSCRIBE, issued_at=issued_at)


def with_settings_link(text: str, html: str, *, url: str, language: str) -> tuple[str, str]:
    """The text and HTML bodies with the "Your message settings" link at their foot, worded in
    `language`. HTML without a </body> gets the link appended; an empty HTML part stays empty."""
    with translation.override(language or None):
        label = _("Your message settings")
        hint = _("how and when we contact you")
    text = f"{text.rstrip()}\n\n-- \n{label} ({hint}):\n{url}\n"
    if html:
        footer = format_html(
            '<p style="max-width:560px;margin:16px auto 0;font-size:13px;line-height:1.5;color:#64748b;'
            'text-align:center;"><a href="{}" style="color:#475569;">{}</a> · {}</p>\n',
            url,
            label,
            hint,
        )
        at = html.rfind("</body>")
        html = html[:at] + footer + html[at:] if at >= 0 else html + footer
    return text, html


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
        body_text, body_html = message.body_text, message.body_html
        if message.contact_id is not None:
            # Links dated from the message's creation, not the attempt: every attempt sends the same
            # bytes, and each message (a "Send again" copy too) carries a fresh settings link.
            if not message.is_transactional:
                headers["List-Unsubscribe"] = (
                    f"<{unsubscribe_url(message.contact_id, issued_at=message.created_at)}>"
                )
                headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            settings_url = contact_links.contact_link(
                message.contact_id, contact_links.MESSAGE_SETTINGS, issued_at=message.created_at
            )
            body_text, body_html = with_settings_link(
                body_text, body_html, url=settings_url, language=message.language
            )
        mail = EmailMultiAlternatives(
            subject=message.subject,
            body=body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            reply_to=[message.reply_to] if message.reply_to else None,
            headers=headers,
        )
        if body_html:
            mail.attach_alternative(body_html, "text/html")
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
