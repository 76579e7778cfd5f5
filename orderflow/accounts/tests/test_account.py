"""A staff member's own account page: name, language, time zone and password."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.accounts.services import AccountSettingsError, update_own_account
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-longer-secret-42"


@pytest.fixture
def rep(client: Client) -> User:
    user = UserFactory(full_name="Rita Rep", language="en", time_zone="UTC")
    client.force_login(user)
    return user


def test_saving_changes_name_language_and_zone_and_the_page_answers_in_the_new_language(
    client: Client, rep: User
) -> None:
    response = client.post(
        reverse("accounts:profile"),
        {"full_name": "  Rita Reis ", "language": "pt", "time_zone": "America/Sao_Paulo"},
        follow=True,
    )

    rep.refresh_from_db()
    assert (rep.full_name, rep.language, rep.time_zone) == ("Rita Reis", "pt", "America/Sao_Paulo")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "pt"
    assert response.headers["Content-Language"] == "pt"
    assert 'lang="pt"' in response.content.decode()
    assert "Guardado." in response.content.decode()  # the toast, in the new language


def test_a_city_typed_alone_is_its_zone(client: Client, rep: User) -> None:
    client.post(reverse("accounts:profile"), {"full_name": "Rita", "language": "en", "time_zone": "tokyo"})

    rep.refresh_from_db()
    assert rep.time_zone == "Asia/Tokyo"


def test_staff_pages_show_times_in_the_new_zone_at_once(client: Client, rep: User) -> None:
    client.post(
        reverse("accounts:profile"), {"full_name": "Rita", "language": "en", "time_zone": "Asia/Tokyo"}
    )

    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC), tick=False):
        html = client.get(reverse("accounts:profile")).content.decode()

    assert "Your pages show times in Asia/Tokyo, where it is now 6:30 p.m." in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone name"),
        ({"time_zone": ""}, "time_zone", "This field is required."),
        ({"language": "de"}, "language", "Select a valid choice."),
        ({"full_name": "x" * 201}, "full_name", "at most 200 characters"),
    ],
)
def test_a_bad_setting_is_refused_next_to_its_field_and_nothing_changes(
    client: Client, rep: User, data: dict[str, str], field: str, message: str
) -> None:
    sent = {"full_name": "Rita Reis", "language": "ru", "time_zone": "Europe/Moscow", **data}

    response = client.post(reverse("accounts:profile"), sent)

    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    rep.refresh_from_db()
    assert (rep.full_name, rep.language, rep.time_zone) == ("Rita Rep", "en", "UTC")
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_service_refuses_an_unsupported_language_and_an_unknown_zone_and_saves_nothing() -> None:
    user = UserFactory(full_name="Rita Rep", language="en", time_zone="UTC")

    with pytest.raises(AccountSettingsError) as refused:
        update_own_account(user, full_name="Rita Reis", language="de", time_zone="Nowhere/Land")

    assert set(refused.value.errors) == {"language", "time_zone"}
    user.refresh_from_db()
    assert (user.full_name, user.language, user.time_zone) == ("Rita Rep", "en", "UTC")


def test_the_page_shows_the_current_settings_and_the_zone_picker(client: Client, rep: User) -> None:
    html = client.get(reverse("accounts:profile")).content.decode()

    assert 'value="Rita Rep"' in html
    assert '<option value="en" selected>English</option>' in html
    assert "Русский" in html
    assert "Português" in html
    assert 'list="time-zones"' in html
    assert "zone_picker.js" in html
    assert reverse("accounts:password-change") in html


def test_the_top_bar_name_leads_to_the_account_page(client: Client, rep: User) -> None:
    html = client.get(reverse("backoffice:my-tasks")).content.decode()

    assert f'<a href="{reverse("accounts:profile")}" title="Your account" >Rita Rep</a>' in html


def test_changing_the_password_keeps_the_session_and_the_old_password_stops_working(
    client: Client, rep: User
) -> None:
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("accounts:profile"), 302)]
    assert "Your password is changed." in response.content.decode()
    assert client.session[SESSION_KEY] == str(rep.pk)
    assert client.get(reverse("backoffice:my-tasks")).status_code == 200
    other = Client()
    assert not other.login(username=rep.email, password=TEST_PASSWORD)
    assert other.login(username=rep.email, password=NEW_PASSWORD)


def test_a_wrong_old_password_changes_nothing(client: Client, rep: User) -> None:
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 422
    assert "old_password" in response.context["form"].errors
    rep.refresh_from_db()
    assert rep.check_password(TEST_PASSWORD)


@pytest.mark.parametrize("role", [Role.CLIENT, Role.CONTRACTOR])
@pytest.mark.parametrize("name", ["accounts:profile", "accounts:password-change"])
def test_a_client_or_contractor_is_refused(client: Client, role: str, name: str) -> None:
    user = UserFactory(role=role, language="en")
    client.force_login(user)

    assert client.get(reverse(name)).status_code == 403
    response = client.post(
        reverse(name),
        {
            "full_name": "X",
            "language": "ru",
            "time_zone": "Asia/Tokyo",
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("en", "UTC")
    assert user.check_password(TEST_PASSWORD)


def test_a_client_sees_no_account_link_in_the_top_bar(client: Client) -> None:
    client.force_login(UserFactory(role=Role.CLIENT, full_name="Carla Client"))

    html = client.get(reverse("accounts:login"), follow=True).content.decode()

    assert reverse("accounts:profile") not in html


@pytest.mark.parametrize("name", ["accounts:profile", "accounts:password-change"])
def test_a_visitor_without_an_account_is_sent_to_log_in(client: Client, name: str) -> None:
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
