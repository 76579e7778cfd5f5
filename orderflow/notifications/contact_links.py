"""Signed links that let a contact act on their own message settings without logging in: the one-click
unsubscribe and the message settings page.

One mechanism for both: Django's signing (an HMAC under SECRET_KEY, one salt per kind of link, so an
unsubscribe link never opens the settings page), with the contact's id and the moment the link was
made inside. Nothing is stored; a link opens only its own contact's page, and only until it expires.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact
from orderflow.errors import DomainError


@dataclass(frozen=True)
class ContactLinkKind:
    """What a link is for: its salt (never shared between kinds), how long it works, its page."""

    salt: str
    max_age: datetime.timedelta
    url_name: str


# The salt is the one the unsubscribe links have always had: links in e-mail already sent keep working.
UNSUBSCRIBE = ContactLinkKind(
    "orderflow.notifications.unsubscribe", datetime.timedelta(days=365), "notifications:unsubscribe"
)
MESSAGE_SETTINGS = ContactLinkKind(
    "orderflow.notifications.message-settings", datetime.timedelta(days=90), "notifications:message-settings"
)


class ContactLinkError(DomainError):
    """The link is unknown (mistyped, cut short, tampered with, another kind) or expired: `code` says
    which. The message names nobody: it is shown to whoever holds the link."""

    code = "link_unknown"


class _SignerIssuedAt(signing.TimestampSigner):
    """Django's timestamp signer with the time of issue given, not read from the clock, so the same
    message gets the same link on every attempt (a re-sent copy has the same body, byte for byte)."""

    def __init__(self, *, salt: str, issued_at: datetime.datetime) -> None:
        super().__init__(salt=salt)
        self.issued_at = issued_at

    def timestamp(self) -> str:
        return signing.b62_encode(int(self.issued_at.timestamp()))


def contact_token(
    contact_id: int, kind: ContactLinkKind, *, issued_at: datetime.datetime | None = None
) -> str:
    """The signed token for `contact_id`; `issued_at` (aware) is when its life starts, default now."""
    payload = {"contact": contact_id}
    if issued_at is None:
        return signing.dumps(payload, salt=kind.salt)
    return _SignerIssuedAt(salt=kind.salt, issued_at=issued_at).sign_object(payload)


def contact_link(
    contact_id: int, kind: ContactLinkKind, *, issued_at: datetime.datetime | None = None
) -> str:
    """The absolute URL of the contact's page of this kind (BASE_URL + path)."""
    token = contact_token(contact_id, kind, issued_at=issued_at)
    return settings.BASE_URL + reverse(kind.url_name, args=[token])


def contact_id_for_token(token: str, kind: ContactLinkKind) -> int:
    """The contact id a token of this kind was made for, or ContactLinkError (unknown or expired).

    Needs no database: the signature is checked first, so an expired link is known to be genuine.
    """
    try:
        payload = signing.loads(token, salt=kind.salt, max_age=kind.max_age)
    except signing.SignatureExpired:
        raise ContactLinkError(
            _("Please use the link in our latest message; each message carries a fresh one."),
            code="link_expired",
        ) from None
    except signing.BadSignature:
        payload = None
    contact_id = payload.get("contact") if isinstance(payload, dict) else None
    if not isinstance(contact_id, int) or isinstance(contact_id, bool):
        raise ContactLinkError(
            _("It may be incomplete: please open it again from our message, or simply reply to it."),
            code="link_unknown",
        )
    return contact_id


def contact_for_token(token: str, kind: ContactLinkKind) -> Contact:
    """The contact behind a link of this kind, or ContactLinkError (unknown, expired, or the contact
    no longer exists, which is told like an unknown link)."""
    try:
        return Contact.objects.get(pk=contact_id_for_token(token, kind))
    except Contact.DoesNotExist:
        raise ContactLinkError(
            _("It may be incomplete: please open it again from our message, or simply reply to it."),
            code="link_unknown",
        ) from None
