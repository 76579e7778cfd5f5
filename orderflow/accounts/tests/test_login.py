"""Logging in by e-mail address, whatever the case the person types it in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_stored_in_lower_case() -> None:
    user = UserFactory(email="Rita.Rep@Example.COM")

    assert user.email == "rita.rep@example.com"


@pytest.mark.parametrize("typed", ["rita.rep@example.com", "RITA.REP@EXAMPLE.COM", "Rita.Rep@Example.com"])
def test_login_accepts_the_email_in_any_case(client: Client, typed: str) -> None:
    user = UserFactory(email="rita.rep@example.com")

    response = client.post(reverse("accounts:login"), {"username": typed, "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:home")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_login_with_a_wrong_password_is_refused_with_a_message(client: Client) -> None:
    UserFactory(email="rita.rep@example.com")

    response = client.post(
        reverse("accounts:login"), {"username": "RITA.REP@example.com", "password": "not-the-password"}
    )

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "correct e-mail and password" in response.content.decode()


def test_two_accounts_cannot_differ_only_in_the_case_of_their_email() -> None:
    User.objects.create_user("rita.rep@example.com", TEST_PASSWORD)

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="Rita.Rep@example.com")


def test_a_staff_members_pages_are_in_their_own_language_after_login(client: Client) -> None:
    UserFactory(email="rita.rep@example.com", language="ru")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.post(
        reverse("accounts:login"),
        {"username": "rita.rep@example.com", "password": TEST_PASSWORD},
        HTTP_ACCEPT_LANGUAGE="pt",
        follow=True,
    )

    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    assert response.headers["Content-Language"] == "ru"
    assert 'lang="ru"' in response.content.decode()


def test_a_client_logging_in_keeps_the_browsers_language(client: Client) -> None:
    UserFactory(email="carla.client@example.com", language="ru", role=Role.CLIENT)

    client.post(
        reverse("accounts:login"),
        {"username": "carla.client@example.com", "password": TEST_PASSWORD},
        HTTP_ACCEPT_LANGUAGE="pt",
    )

    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
