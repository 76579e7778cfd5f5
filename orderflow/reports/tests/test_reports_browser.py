"""The reports page in a real browser: a manager finds it in the menu, reads the charts and tables,
and picks another period. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from orderflow.accounts.roles import Role
from orderflow.pipelines.process_io import SHIPPED_DIR, import_process_template
from orderflow.pipelines.services import create_order, move_order, update_order
from tests.factories import TEST_PASSWORD, ContactFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _history() -> None:
    """Twelve repair-shop orders over the last three weeks (relative to now), at various stages."""
    pipeline = import_process_template((SHIPPED_DIR / "repair.yaml").read_text(encoding="utf-8"))
    main = list(pipeline.stages.filter(is_side=False).order_by("position"))
    fields = {field.key: field for field in pipeline.fields.all()}
    start = timezone.now() - datetime.timedelta(days=21)
    for number in range(12):
        opened = start + datetime.timedelta(days=number, hours=number % 5)
        with time_machine.travel(opened, tick=False):
            order = create_order(
                pipeline=pipeline, client=ContactFactory(), title=f"Repair {number}", by=None
            )
        values = {
            key: field.choices[0] if field.choices else _value(field.kind) for key, field in fields.items()
        }
        update_order(order, by=None, fields=values)
        for step, stage in enumerate(main[1 : 1 + (12 - number) % len(main)], start=1):
            with time_machine.travel(opened + datetime.timedelta(hours=step * (3 + number)), tick=False):
                move_order(order, stage, by=None)


def _value(kind: str) -> Any:
    return {"number": "1", "money": "120", "date": "2031-01-01", "url": "https://example.com"}.get(kind, "x")


def test_a_manager_reads_the_funnel_and_time_in_stage(live_server: Any, page: Any, screenshot: Any) -> None:
    from playwright.sync_api import expect

    _history()
    UserFactory(role=Role.MANAGER, email="mia@agency.example", full_name="Mia Manager")
    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill("mia@agency.example")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reports")
    funnel = page.get_by_test_id("funnel")
    expect(funnel).to_contain_text("12 orders were opened in the period")
    expect(funnel.locator(".chart-row")).not_to_have_count(0)
    expect(page.get_by_test_id("time-table")).to_contain_text("Median")
    screenshot(page, "reports")

    page.get_by_role("link", name="Last 7 days").click()
    expect(page.get_by_role("link", name="Last 7 days")).to_have_attribute("aria-current", "true")
    expect(funnel).not_to_contain_text("12 orders")
    screenshot(page, "reports-last-7-days")
