"""The top bar marks the one section a staff page belongs to, so the eye and a screen reader agree."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from orderflow.accounts.roles import Role
from tests.factories import ContactFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def _current_sections(page: str) -> list[str]:
    nav = page.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', nav)


@pytest.mark.parametrize(
    ("url_name", "needs", "section"),
    [
        ("backoffice:order-list", None, "Orders"),
        ("backoffice:order-create", None, "Orders"),
        ("backoffice:order-edit", "order", "Orders"),
        ("backoffice:contact-list", None, "Contacts"),
        ("notifications:contact-preferences", "contact", "Contacts"),
        ("notifications:log", None, "Messages"),
        ("notifications:template-list", None, "Messages"),
        ("backoffice:caught-mail", None, "Messages"),
        ("scheduling:availability", None, "Calendar"),
        ("scheduling:settings-booking-types", None, "Settings"),
    ],
)
def test_a_staff_page_marks_one_section_of_the_top_bar(
    client: Client, url_name: str, needs: str | None, section: str
) -> None:
    client.force_login(UserFactory(role=Role.ADMIN))
    args = {"order": lambda: [OrderFactory().pk], "contact": lambda: [ContactFactory().pk], None: list}[
        needs
    ]()

    page = client.get(reverse(url_name, args=args)).content.decode()

    assert _current_sections(page) == [section]
