"""In the browser: a rep clicks her name in the top bar, picks Russian and types 'Tokyo' for her zone;
the page answers in Russian at once with a toast, then she changes her password and stays logged in
(screenshots at 1280 and 390 px)."""

from __future__ import annotations

from typing import Any

import pytest

from orderflow.accounts.models import User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_switches_to_russian_and_tokyo_then_changes_her_password(
    live_server: Any, page: Any, screenshot: Any
) -> None:
    rep = UserFactory(email="rita@example.com", full_name="Rita Rep", language="en", time_zone="UTC")
    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill("rita@example.com")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Rita Rep").click()
    page.get_by_role("heading", name="Your account").wait_for()
    screenshot(page, "account-en")
    page.locator("#id_language").select_option("ru")
    page.locator("#id_time_zone").fill("Tokyo")
    page.locator("#id_time_zone").blur()
    assert page.locator("#id_time_zone").input_value() == "Asia/Tokyo"
    page.get_by_role("button", name="Save").click()

    page.get_by_role("heading", name="Ваша учётная запись").wait_for()
    assert page.locator("html").get_attribute("lang") == "ru"
    page.locator(".toast", has_text="Сохранено").wait_for()
    assert "Asia/Tokyo" in page.get_by_test_id("time-now").inner_text()
    screenshot(page, "account-ru")
    rep.refresh_from_db()
    assert (rep.language, rep.time_zone) == ("ru", "Asia/Tokyo")

    page.get_by_role("link", name="Сменить пароль").click()
    page.locator("#id_old_password").fill(TEST_PASSWORD)
    page.locator("#id_new_password1").fill("a-much-longer-secret-42")
    page.locator("#id_new_password2").fill("a-much-longer-secret-42")
    screenshot(page, "password-change-ru")
    page.get_by_role("button", name="Сменить пароль").click()

    page.get_by_role("heading", name="Ваша учётная запись").wait_for()
    page.locator(".toast", has_text="Пароль изменён").wait_for()
    assert User.objects.get(pk=rep.pk).check_password("a-much-longer-secret-42")
