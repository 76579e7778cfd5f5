"""The embedded SMTP catcher: a real SMTP server that keeps every message in a Maildir.

`orderflow up` runs it when no real SMTP server is configured, so e-mail works out of the box and
staff can read what was sent on the "Caught e-mail" page.
"""

from __future__ import annotations

import email.policy
import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class CaughtMail:
    key: str
    sender: str
    to: str
    subject: str
    date: datetime | None
    body: str


class MaildirHandler:
    """aiosmtpd handler storing each received message, envelope recipients included, in a Maildir."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.maildir = mailbox.Maildir(str(directory), create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        message = mailbox.MaildirMessage(data)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.maildir.add(message)
        return "250 Message accepted for delivery"


def read_caught_mail(*, limit: int = 100, directory: Path | None = None) -> list[CaughtMail]:
    """The newest `limit` messages, newest first. An empty list when the catcher never ran.

    Only the newest files are parsed (by their time in the Maildir), so the page stays quick however
    much mail the catcher has kept.
    """
    folder = Path(directory or settings.MAIL_CATCHER_DIR)
    if not folder.exists():
        return []
    files = [path for sub in ("new", "cur") if (folder / sub).is_dir() for path in (folder / sub).iterdir()]
    newest = sorted(files, key=lambda path: path.stat().st_mtime_ns, reverse=True)[:limit]
    mails = [_caught(path) for path in newest]
    mails.sort(key=lambda m: m.date or datetime.min.replace(tzinfo=UTC), reverse=True)
    return mails


def _caught(path: Path) -> CaughtMail:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body_part = parsed.get_body(preferencelist=("plain", "html"))
    try:
        date = parsedate_to_datetime(parsed["Date"]) if parsed["Date"] else None
    except (TypeError, ValueError):
        date = None
    return CaughtMail(
        key=path.name,
        sender=str(parsed["From"] or ""),
        to=str(parsed["To"] or parsed["X-Envelope-To"] or ""),
        subject=str(parsed["Subject"] or ""),
        date=date,
        body=body_part.get_content() if body_part is not None else "",
    )
