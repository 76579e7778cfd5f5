"""Issue 4's proof in a real browser: an admin shapes a pipeline, a rep works it on the board.

The admin creates a pipeline with stages, a side status and a custom field that one stage requires;
a rep drags an order across the board, sees the move on the timeline, sees a refused drag snap back
with its reason, and sets and leaves a side status.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from orderflow.accounts.roles import Role
from orderflow.pipelines.models import Order, Pipeline
from orderflow.pipelines.services import create_order
from tests.factories import TEST_PASSWORD, ContactFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Any, live_server: Any, email: str) -> None:
    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _add_stage(page: Any, name: str, *, side: bool = False, requires: str | None = None) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Add a stage").click()
    editor = page.get_by_test_id("stage-form")
    editor.get_by_label(re.compile(r"^Name")).fill(name)
    if side:
        editor.get_by_label("Side status").check()
    if requires:
        editor.get_by_label(requires).check()
    editor.get_by_role("button", name="Add stage").click()
    expect(page.get_by_test_id("stage-row").filter(has_text=name)).to_have_count(1)


def _drag(page: Any, card: Any, column: Any) -> None:
    """Drag with real mouse steps, as SortableJS needs to see movement."""
    start = card.bounding_box()
    target = column.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    to_x, to_y = target["x"] + target["width"] / 2, target["y"] + 40
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 26):
        page.mouse.move(x + (to_x - x) * step / 25, y + (to_y - y) * step / 25)
    page.mouse.up()


def test_admin_shapes_a_pipeline_and_a_rep_works_it_on_the_board(
    live_server: Any, page: Any, screenshot: Any
):
    from playwright.sync_api import expect

    UserFactory(role=Role.ADMIN, email="ada@agency.example", full_name="Ada Admin")
    rep = UserFactory(role=Role.REP, email="rui@agency.example", full_name="Rui Rep")

    # The admin: a pipeline, a custom field, stages (one requiring the field) and a side status.
    _log_in(page, live_server, "ada@agency.example")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="New pipeline").first.click()
    page.get_by_label(re.compile(r"^Name")).fill("Logo design")
    page.get_by_label("Number prefix").fill("LOGO")
    page.get_by_role("button", name="Create pipeline").click()
    pipeline = Pipeline.objects.get(name="Logo design")

    page.get_by_role("link", name="Fields", exact=True).click()
    page.get_by_role("link", name="Add a field").click()
    field_editor = page.get_by_test_id("field-form")
    field_editor.get_by_label("Label").fill("Brand colours")
    field_editor.get_by_role("button", name="Add field").click()
    expect(page.get_by_test_id("field-row").filter(has_text="Brand colours")).to_have_count(1)

    page.get_by_role("link", name="Stages", exact=True).click()
    _add_stage(page, "Brief")
    _add_stage(page, "Sketches")
    _add_stage(page, "Final artwork", requires="Brand colours")
    _add_stage(page, "Paused", side=True)
    screenshot(page, "admin-stages")
    assert list(pipeline.stages.order_by("position").values_list("name", flat=True)) == [
        "Brief",
        "Sketches",
        "Final artwork",
        "Paused",
    ]
    assert pipeline.fields.get().label == "Brand colours"
    page.get_by_role("button", name="Log out").click()

    # The rep: an order in the first stage, dragged across the board.
    order = create_order(
        pipeline=pipeline, client=ContactFactory(name="Padaria Lux"), title="New logo", by=rep
    )
    _log_in(page, live_server, "rui@agency.example")
    page.goto(f"{live_server}/pipelines/{pipeline.slug}/board/")
    columns = {
        name: page.locator(f"[data-column='{pipeline.stages.get(name=name).pk}']")
        for name in ("Brief", "Sketches", "Final artwork")
    }
    card = page.locator(f"[data-order='{order.pk}']")
    expect(columns["Brief"].locator(f"[data-order='{order.pk}']")).to_have_count(1)

    _drag(page, card, columns["Sketches"].locator("ol"))
    # The server's fresh card replaces the dragged one; until then the card ignores the mouse (is-moving).
    expect(columns["Sketches"].locator(f"[data-order='{order.pk}']:not([aria-busy])")).to_have_count(1)
    for _ in range(50):
        order.refresh_from_db()
        if order.stage.name == "Sketches":
            break
        page.wait_for_timeout(100)
    assert order.stage.name == "Sketches"
    screenshot(page, "board-after-drag")

    # A drag the guards refuse: the card snaps back and the reason is shown.
    card = page.locator(f"[data-order='{order.pk}']")
    _drag(page, card, columns["Final artwork"].locator("ol"))
    expect(page.locator("#board-alerts")).to_contain_text("Brand colours")
    expect(columns["Sketches"].locator(f"[data-order='{order.pk}']")).to_have_count(1)
    expect(columns["Final artwork"].locator(f"[data-order='{order.pk}']")).to_have_count(0)
    order.refresh_from_db()
    assert order.stage.name == "Sketches"
    screenshot(page, "board-refused")

    # The timeline shows the move; a side status is set and left again.
    page.goto(f"{live_server}/orders/{order.pk}/")
    expect(page.get_by_test_id("timeline")).to_contain_text("Brief → Sketches")
    page.get_by_label("Move to").select_option(label="Paused")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_test_id("stage-badge")).to_have_text("Paused")
    page.get_by_role("button", name="Back to “Sketches”").click()
    expect(page.get_by_test_id("stage-badge")).to_have_text("Sketches")
    expect(page.get_by_test_id("timeline")).to_contain_text("Paused → Sketches")
    screenshot(page, "order-card")
    assert Order.objects.get(pk=order.pk).stage.name == "Sketches"


def _tab_to(page: Any, selector: str, *, limit: int = 200) -> None:
    """Press Tab until the focused element matches `selector` (the keyboard alone, no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_rep_moves_an_order_on_the_board_with_the_keyboard_alone(
    live_server: Any, page: Any, screenshot: Any
) -> None:
    from playwright.sync_api import expect

    from tests.factories import PipelineFactory

    rep = UserFactory(role=Role.REP, email="kim@agency.example", full_name="Kim Keys")
    pipeline = PipelineFactory()
    order = create_order(
        pipeline=pipeline, client=ContactFactory(name="Padaria Lux"), title="Shop site", by=rep
    )
    sent = pipeline.stages.get(key="questionnaire-sent")
    launched = pipeline.stages.get(key="site-launched")
    launched.allowed_from = ["website-approved"]
    launched.save()
    _log_in(page, live_server, "kim@agency.example")
    page.goto(f"{live_server}/pipelines/{pipeline.slug}/board/")

    # Focus the card with Tab, press M, Tab to "Questionnaire Sent", press Enter.
    _tab_to(page, f"[data-order='{order.pk}']")
    page.keyboard.press("m")
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    screenshot(page, "keyboard-move-dialog")
    _tab_to(page, f"#move-dialog .move-option[data-stage='{sent.pk}']", limit=30)
    page.keyboard.press("Enter")

    column = page.locator(f"[data-column='{sent.pk}']")
    expect(column.locator(f"[data-order='{order.pk}']")).to_have_count(1)
    expect(column.locator(f"[data-order='{order.pk}']")).to_be_focused()
    expect(page.locator("#board-status")).to_contain_text("moved to “Questionnaire Sent”")
    order.refresh_from_db()
    assert order.stage == sent
    assert order.events.latest("id").to_stage == sent

    # The same card, still focused: a move the guards refuse keeps it where it is, with the reason.
    page.keyboard.press("M")
    _tab_to(page, f"#move-dialog .move-option[data-stage='{launched.pk}']", limit=30)
    page.keyboard.press("Enter")
    expect(page.locator("#board-alerts")).to_contain_text("can't be reached from “Questionnaire Sent”")
    expect(column.locator(f"[data-order='{order.pk}']")).to_be_focused()
    screenshot(page, "keyboard-move-refused")
    order.refresh_from_db()
    assert order.stage == sent

    # Escape closes the dialog without moving.
    page.keyboard.press("m")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(column.locator(f"[data-order='{order.pk}']")).to_be_focused()
    order.refresh_from_db()
    assert order.stage == sent


def test_a_rep_finds_an_existing_client_by_typing_on_the_order_form(live_server: Any, page: Any) -> None:
    from playwright.sync_api import expect

    from tests.factories import PipelineFactory

    PipelineFactory()
    UserFactory(role=Role.REP, email="kim@agency.example", full_name="Kim Keys")
    for number in range(30):
        ContactFactory(name=f"Bakery {number:02d}", email=f"bakery{number:02d}@example.com")
    wanted = ContactFactory(name="Padaria Lux", email="ola@padarialux.pt")
    _log_in(page, live_server, "kim@agency.example")
    page.goto(f"{live_server}/orders/new/")
    page.get_by_label("Title").fill("Shop site")

    page.get_by_label("Existing client").fill("bakery")
    expect(page.get_by_test_id("client-choices").locator("input[name=client]")).to_have_count(20)
    page.get_by_label("Existing client").fill("padarialux")
    choices = page.get_by_test_id("client-choices")
    expect(choices.locator("input[name=client]")).to_have_count(1)
    choices.get_by_label(re.compile("Padaria Lux")).check()
    page.get_by_role("button", name="Create order").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("WEB-00001")
    assert Order.objects.get().client == wanted
