"""The "Sent e-mail" page: staff read what the built-in SMTP catcher received, newest first.

Real parts: the catcher's own aiosmtpd handler writing a Maildir, fed over SMTP by smtplib.
"""

from __future__ import annotations

import datetime
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from orderflow.accounts.roles import Role
from orderflow.notifications.catcher import MaildirHandler, read_caught_mail
from tests.factories import UserFactory
from tests.fixtures.smtp import unused_tcp_port


@pytest.fixture
def catcher(settings: object, tmp_path: Path) -> Iterator[int]:
    """The embedded catcher listening on a free port, keeping mail where the page reads it."""
    folder = tmp_path / "mail"
    settings.MAIL_CATCHER_DIR = folder  # type: ignore[attr-defined]
    port = unused_tcp_port()
    controller = Controller(MaildirHandler(folder), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _send(port: int, *, subject: str, body: str, day: int) -> None:
    message = EmailMessage()
    message["From"] = "orders@localhost"
    message["To"] = "ana@bakery.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.datetime(2026, 11, day, 9, 0, tzinfo=datetime.UTC))
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


@pytest.mark.django_db
def test_staff_read_caught_mail_newest_first_with_script_shown_as_text(catcher: int, client: Client) -> None:
    _send(catcher, subject="Order WEB-00001 received", body="We have your order.", day=1)
    _send(catcher, subject="Your design is ready", body="<script>alert(1)</script> Have a look.", day=2)
    client.force_login(UserFactory(role=Role.REP))

    response = client.get("/mail/")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("Your design is ready") < page.index("Order WEB-00001 received")
    assert "ana@bakery.example" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Have a look." in page
    assert "<script>alert(1)" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CLIENT, Role.CONTRACTOR])
def test_people_outside_staff_cannot_read_caught_mail(catcher: int, client: Client, role: str) -> None:
    _send(catcher, subject="Private to the client", body="Secret", day=1)
    client.force_login(UserFactory(role=role))

    response = client.get("/mail/")

    assert response.status_code == 403
    assert b"Private to the client" not in response.content


def test_only_the_newest_messages_are_read(catcher: int, tmp_path: Path) -> None:
    for day in range(1, 8):
        _send(catcher, subject=f"Message of day {day}", body="…", day=day)

    mails = read_caught_mail(limit=3, directory=tmp_path / "mail")

    assert [mail.subject for mail in mails] == ["Message of day 7", "Message of day 6", "Message of day 5"]


@pytest.mark.django_db
def test_an_empty_catcher_says_what_to_do(client: Client, settings: object, tmp_path: Path) -> None:
    settings.MAIL_CATCHER_DIR = tmp_path / "never-ran"  # type: ignore[attr-defined]
    client.force_login(UserFactory(role=Role.ADMIN))

    response = client.get("/mail/")

    assert response.status_code == 200
    assert "No e-mail yet" in response.content.decode()
