"""Every staff page refuses people outside the staff, whatever it is and whether what it names exists.

The URL map is walked, so a page added later without its permission check fails here. Pages meant for
people with a link (a client request, a booking, feedback, message settings, unsubscribe, a calendar
feed) are listed as public: they are guarded by their secret token and tested in their apps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from orderflow.accounts.roles import Role
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

# Pages a person without an account opens (guarded by a secret in the URL), and the login itself.
PUBLIC = {
    "health",
    "accounts:login",
    "accounts:logout",
    "set_language",
    "client_requests:respond",
    "client_requests:respond-answer",
    "client_requests:respond-files",
    "client_requests:respond-file-delete",
    "client_requests:respond-submit",
    "scheduling:book",
    "scheduling:book-confirm",
    "scheduling:book-cancel",
    "scheduling:book-ics",
    "scheduling:feed",
    "notifications:unsubscribe",
    "notifications:message-settings",
    "notifications:feedback",
}
VALUES = {"int": "1", "slug": "web", "str": "x", "path": "x"}


def _named_patterns(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(name, path with placeholders filled) for every named URL of the project, admin left out."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace
            yield from _named_patterns(entry, prefix + str(entry.pattern), inner or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            route = prefix + str(entry.pattern)
            filled = re.sub(r"<(?:(\w+):)?\w+>", lambda m: VALUES[m.group(1) or "str"], route)
            yield name, "/" + filled.lstrip("^").rstrip("$")


STAFF_PAGES = sorted((name, path) for name, path in _named_patterns(get_resolver()) if name not in PUBLIC)


def test_the_walk_finds_the_staff_pages() -> None:
    names = {name for name, _path in STAFF_PAGES}
    assert {"backoffice:order-detail", "reports:home", "automation:home", "notifications:log"} <= names
    assert len(STAFF_PAGES) > 60


@pytest.mark.parametrize("role", [Role.CLIENT, Role.CONTRACTOR])
def test_no_staff_page_opens_for_a_client_or_a_contractor(client: Client, role: str) -> None:
    OrderFactory()  # something for pages that name order 1 to find
    client.force_login(UserFactory(role=role))
    opened = []
    for name, path in STAFF_PAGES:
        for method in (client.get, client.post):
            # The home page only points at the order list, which must refuse in its turn.
            status = method(path, follow=name == "backoffice:home").status_code
            if status not in {403, 405}:
                opened.append(f"{method.__name__.upper()} {path} ({name}): {status}")
    assert opened == []


def test_no_staff_page_opens_for_a_visitor_without_an_account(client: Client) -> None:
    OrderFactory()
    opened = []
    for name, path in STAFF_PAGES:
        for method in (client.get, client.post):
            response = method(path)
            login_redirect = response.status_code == 302 and "/accounts/login/" in response["Location"]
            if not login_redirect and response.status_code not in {403, 405}:
                opened.append(f"{method.__name__.upper()} {path} ({name}): {response.status_code}")
    assert opened == []
