"""The pipeline settings pages: admins shape pipelines, stages and fields in place; reps and managers
are refused; refusals show next to the control; pages cost the same queries for few or many rows."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.pipelines import configure
from orderflow.pipelines.configure import FieldSettings, PipelineSettings, StageSettings
from orderflow.pipelines.models import FieldDefinition, Order, OrderEvent, Pipeline, Stage
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin() -> User:
    return cast(User, UserFactory(role=Role.ADMIN, full_name="Ada Admin"))


@pytest.fixture
def admin_client(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


@pytest.fixture
def pipeline(admin: User) -> Pipeline:
    pipeline = configure.create_pipeline(PipelineSettings(name="Logo design", number_prefix="LOGO"), by=admin)
    configure.create_field(pipeline, FieldSettings(label="Brief link", kind="url"), by=admin)
    configure.create_stage(pipeline, StageSettings(name="Draft"), by=admin)
    configure.create_stage(pipeline, StageSettings(name="Design", required_fields=["brief-link"]), by=admin)
    configure.create_stage(pipeline, StageSettings(name="Launched", category="won"), by=admin)
    return pipeline


def stage_form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Review",
        "key": "",
        "client_label": "",
        "client_label_pt": "",
        "client_label_ru": "",
        "client_description": "",
        "notify_client": "on",
        "category": "open",
        "color": "#3b82f6",
        "max_days": "",
    }
    data.update(overrides)
    return data


def keys_in_order(pipeline: Pipeline) -> list[str]:
    return list(pipeline.stages.order_by("position", "id").values_list("key", flat=True))


# Who may use the pages


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.CLIENT])
def test_people_without_the_pipeline_permission_get_403_and_change_nothing(
    client: Client, pipeline: Pipeline, role: str
) -> None:
    client.force_login(cast(User, UserFactory(role=role)))
    design = pipeline.stages.get(key="design")
    field = pipeline.fields.get()
    before = (keys_in_order(pipeline), Pipeline.objects.count(), FieldDefinition.objects.count())

    pages = [
        reverse("backoffice:settings-pipeline-list"),
        reverse("backoffice:settings-pipeline-create"),
        reverse("backoffice:settings-stages", args=[pipeline.pk]),
        reverse("backoffice:settings-fields", args=[pipeline.pk]),
        reverse("backoffice:settings-stage-edit", args=[design.pk]),
    ]
    posts = [
        (
            reverse("backoffice:settings-pipeline-create"),
            {"name": "SEO", "number_prefix": "SEO", "currency": "EUR"},
        ),
        (reverse("backoffice:settings-pipeline-active", args=[pipeline.pk]), {"is_active": "false"}),
        (reverse("backoffice:settings-stage-create", args=[pipeline.pk]), stage_form_data()),
        (
            reverse("backoffice:settings-stage-edit", args=[design.pk]),
            stage_form_data(name="Hacked", key="design"),
        ),
        (reverse("backoffice:settings-stage-shift", args=[design.pk]), {"direction": "up"}),
        (reverse("backoffice:settings-stage-delete", args=[design.pk]), {}),
        (reverse("backoffice:settings-field-delete", args=[field.pk]), {}),
    ]
    for url in pages:
        assert client.get(url).status_code == 403, url
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url

    pipeline.refresh_from_db()
    assert pipeline.is_active
    assert (keys_in_order(pipeline), Pipeline.objects.count(), FieldDefinition.objects.count()) == before
    assert pipeline.stages.get(key="design").name == "Design"


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    response = client.get(reverse("backoffice:settings-pipeline-list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_settings_link_shows_only_for_people_who_may_change_pipelines(
    client: Client, admin_client: Client
) -> None:
    settings_url = reverse("backoffice:settings-pipeline-list")
    assert settings_url in admin_client.get(reverse("backoffice:order-list")).content.decode()

    client.force_login(cast(User, UserFactory(role=Role.REP)))
    assert settings_url not in client.get(reverse("backoffice:order-list")).content.decode()


# Pipelines


def test_an_admin_creates_a_pipeline_and_lands_on_its_stages(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("backoffice:settings-pipeline-create"),
        {"name": "SEO retainer", "slug": "", "number_prefix": "seo", "currency": "eur", "description": ""},
    )

    pipeline = Pipeline.objects.get(slug="seo-retainer")
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:settings-stages", args=[pipeline.pk])
    assert pipeline.number_prefix == "SEO"
    page = admin_client.get(response["Location"]).content.decode()
    assert "No stages yet" in page


def test_a_wrong_prefix_is_explained_next_to_its_input(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("backoffice:settings-pipeline-create"),
        {"name": "SEO", "number_prefix": "S-1", "currency": "EUR"},
    )

    assert response.status_code == 422
    assert "Use 2 to 8 capital letters or digits" in response.content.decode()
    assert not Pipeline.objects.exists()


def test_an_admin_edits_and_deactivates_a_pipeline(admin_client: Client, pipeline: Pipeline) -> None:
    response = admin_client.post(
        reverse("backoffice:settings-pipeline-edit", args=[pipeline.pk]),
        {"name": "Logos", "slug": "logos", "number_prefix": "LG", "currency": "USD", "description": "Marks"},
    )
    assert response.status_code == 302

    admin_client.post(
        reverse("backoffice:settings-pipeline-active", args=[pipeline.pk]), {"is_active": "false"}
    )

    pipeline.refresh_from_db()
    assert (pipeline.name, pipeline.number_prefix, pipeline.currency, pipeline.is_active) == (
        "Logos",
        "LG",
        "USD",
        False,
    )
    listing = admin_client.get(reverse("backoffice:settings-pipeline-list")).content.decode()
    assert "Inactive" in listing


# Stages


def test_the_stage_editor_opens_in_place_and_saves_into_the_list(
    admin_client: Client, pipeline: Pipeline
) -> None:
    design = pipeline.stages.get(key="design")
    url = reverse("backoffice:settings-stage-edit", args=[design.pk])

    editor = admin_client.get(url, headers=HTMX)
    assert editor.status_code == 200
    assert 'data-testid="stage-form"' in editor.content.decode()
    assert "<html" not in editor.content.decode()

    saved = admin_client.post(
        url,
        stage_form_data(
            name="Design work",
            key="design",
            client_label="We are designing",
            client_label_pt="Estamos a desenhar",
            color="#8B5CF6",
            allowed_roles=["admin", "manager"],
            allowed_from=["draft"],
            required_fields=["brief-link"],
            max_days="10",
        ),
        headers=HTMX,
    )

    assert saved.status_code == 200
    assert saved["HX-Retarget"] == "#stages-panel"
    assert "Stage “Design work” saved." in saved.content.decode()
    design.refresh_from_db()
    assert (design.name, design.color, design.allowed_roles, design.allowed_from, design.max_days) == (
        "Design work",
        "#8b5cf6",
        ["admin", "manager"],
        ["draft"],
        10,
    )
    assert design.client_label_translations == {"pt": "Estamos a desenhar"}


def test_a_stage_can_be_left_to_the_contractor_on_the_order_but_not_to_the_client(
    admin_client: Client, pipeline: Pipeline
) -> None:
    design = pipeline.stages.get(key="design")
    url = reverse("backoffice:settings-stage-edit", args=[design.pk])
    assert "Contractor on the order" in admin_client.get(url, headers=HTMX).content.decode()
    data = stage_form_data(name="Design", key="design", required_fields=["brief-link"])

    refused = admin_client.post(url, {**data, "allowed_roles": ["contractor", "client"]}, headers=HTMX)
    assert refused.status_code == 422
    assert "Select a valid choice. client is not one of the available choices." in refused.content.decode()
    design.refresh_from_db()
    assert design.allowed_roles == []

    saved = admin_client.post(url, {**data, "allowed_roles": ["contractor", "manager"]}, headers=HTMX)
    assert saved.status_code == 200
    design.refresh_from_db()
    assert design.allowed_roles == ["contractor", "manager"]
    row = saved.content.decode()
    assert "Set by</span> Contractor on the order, Manager" in row


def test_the_client_description_is_edited_in_three_languages(
    admin_client: Client, pipeline: Pipeline
) -> None:
    design = pipeline.stages.get(key="design")
    url = reverse("backoffice:settings-stage-edit", args=[design.pk])
    editor = admin_client.get(url, headers=HTMX).content.decode()
    assert 'name="client_description_pt"' in editor
    assert 'name="client_description_ru"' in editor

    saved = admin_client.post(
        url,
        stage_form_data(
            name="Design",
            key="design",
            client_description="We draw the first version of your logo.",
            client_description_pt=" Desenhamos a primeira versão do seu logótipo. ",
            client_description_ru="Рисуем первую версию логотипа.",
            required_fields=["brief-link"],
        ),
        headers=HTMX,
    )

    assert saved.status_code == 200
    design.refresh_from_db()
    assert design.client_description_translations == {
        "pt": "Desenhamos a primeira versão do seu logótipo.",
        "ru": "Рисуем первую версию логотипа.",
    }
    assert design.description_for_client_in("pt") == "Desenhamos a primeira versão do seu logótipo."
    assert design.description_for_client_in("ru") == "Рисуем первую версию логотипа."
    assert design.description_for_client_in("en") == "We draw the first version of your logo."
    reopened = admin_client.get(url, headers=HTMX).content.decode()
    assert "Рисуем первую версию логотипа." in reopened


def test_a_too_long_translated_description_is_refused_next_to_it(
    admin_client: Client, pipeline: Pipeline
) -> None:
    design = pipeline.stages.get(key="design")
    response = admin_client.post(
        reverse("backoffice:settings-stage-edit", args=[design.pk]),
        stage_form_data(name="Design", key="design", client_description_ru="д" * 301),
        headers=HTMX,
    )
    assert response.status_code == 422
    design.refresh_from_db()
    assert design.client_description_translations == {}


def test_a_translated_description_falls_back_to_english(admin: User, pipeline: Pipeline) -> None:
    stage = configure.create_stage(
        pipeline,
        StageSettings(
            name="Printing", client_description="We print.", client_description_translations={"pt": ""}
        ),
        by=admin,
    )
    assert stage.client_description_translations == {}
    assert stage.description_for_client_in("pt") == "We print."
    with pytest.raises(configure.ConfigInputError) as refused:
        configure.create_stage(
            pipeline,
            StageSettings(name="Shipping", client_description_translations={"de": "Versand"}),
            by=admin,
        )
    assert "client_description_translations" in refused.value.errors


def test_a_refused_stage_edit_explains_itself_in_the_editor_and_changes_nothing(
    admin_client: Client, pipeline: Pipeline
) -> None:
    design = pipeline.stages.get(key="design")

    response = admin_client.post(
        reverse("backoffice:settings-stage-edit", args=[design.pk]),
        stage_form_data(name="Design", key="draft", color="#3b82f6"),
        headers=HTMX,
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "“draft” is already used in this pipeline." in page
    assert 'data-testid="stage-form"' in page
    assert Stage.objects.get(pk=design.pk).key == "design"


def test_adding_a_stage_puts_it_last(admin_client: Client, pipeline: Pipeline) -> None:
    response = admin_client.post(
        reverse("backoffice:settings-stage-create", args=[pipeline.pk]), stage_form_data(name="Invoice sent")
    )

    assert response.status_code == 302
    assert keys_in_order(pipeline) == ["draft", "design", "launched", "invoice-sent"]


def test_dragging_stages_saves_the_new_order(admin_client: Client, pipeline: Pipeline) -> None:
    ids = dict(pipeline.stages.values_list("key", "pk"))

    response = admin_client.post(
        reverse("backoffice:settings-stage-reorder", args=[pipeline.pk]),
        {"order": f"{ids['launched']},{ids['draft']},{ids['design']}"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert keys_in_order(pipeline) == ["launched", "draft", "design"]


def test_an_outdated_drag_is_refused_with_a_message_and_changes_nothing(
    admin_client: Client, pipeline: Pipeline
) -> None:
    ids = dict(pipeline.stages.values_list("key", "pk"))

    response = admin_client.post(
        reverse("backoffice:settings-stage-reorder", args=[pipeline.pk]),
        {"order": f"{ids['launched']},{ids['draft']}"},
        headers=HTMX,
    )

    assert "Reload the page" in response.content.decode()
    assert keys_in_order(pipeline) == ["draft", "design", "launched"]


def test_the_arrow_buttons_work_without_javascript(admin_client: Client, pipeline: Pipeline) -> None:
    launched = pipeline.stages.get(key="launched")

    response = admin_client.post(
        reverse("backoffice:settings-stage-shift", args=[launched.pk]), {"direction": "up"}
    )

    assert response.status_code == 302
    assert keys_in_order(pipeline) == ["draft", "launched", "design"]


def test_deleting_a_stage_with_orders_asks_where_they_go_then_moves_them(
    admin_client: Client, pipeline: Pipeline, admin: User
) -> None:
    design, draft = pipeline.stages.get(key="design"), pipeline.stages.get(key="draft")
    order = cast(Order, OrderFactory(pipeline=pipeline, stage=design, by=admin))
    url = reverse("backoffice:settings-stage-delete", args=[design.pk])

    confirm = admin_client.get(url, headers=HTMX).content.decode()
    assert "1 order is in this stage." in confirm
    assert 'name="move_orders_to"' in confirm

    refused = admin_client.post(url, {"move_orders_to": ""}, headers=HTMX)
    assert refused.status_code == 422
    assert "pick where they go" in refused.content.decode()
    assert Stage.objects.filter(pk=design.pk).exists()

    done = admin_client.post(url, {"move_orders_to": draft.pk}, headers=HTMX)
    assert done.status_code == 200
    assert "Stage “Design” deleted; 1 order moved." in done.content.decode()
    order.refresh_from_db()
    assert order.stage == draft
    assert order.events.filter(
        kind=OrderEvent.Kind.STAGE_CHANGED, message="Stage “Design” was deleted."
    ).exists()


def test_the_only_stage_offers_no_delete_button_and_a_forced_delete_is_refused(
    admin_client: Client, admin: User
) -> None:
    pipeline = configure.create_pipeline(PipelineSettings(name="Tiny", number_prefix="TINY"), by=admin)
    only = configure.create_stage(pipeline, StageSettings(name="Only"), by=admin)
    url = reverse("backoffice:settings-stage-delete", args=[only.pk])

    confirm = admin_client.get(url, headers=HTMX).content.decode()
    assert "only stage" in confirm
    assert "Delete stage</button>" not in confirm

    refused = admin_client.post(url, {}, headers=HTMX)
    assert refused.status_code == 422
    assert "only stage" in refused.content.decode()
    assert Stage.objects.filter(pk=only.pk).exists()


# Fields


def test_an_admin_adds_a_choice_field(admin_client: Client, pipeline: Pipeline) -> None:
    response = admin_client.post(
        reverse("backoffice:settings-field-create", args=[pipeline.pk]),
        {"label": "Size", "key": "", "kind": "choice", "choices": "Small\r\nLarge\r\n", "help_text": ""},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#fields-panel"
    assert pipeline.fields.get(key="size").choices == ["Small", "Large"]


def test_changing_the_type_of_a_field_with_values_is_refused_next_to_the_type(
    admin_client: Client, pipeline: Pipeline, admin: User
) -> None:
    order = cast(Order, OrderFactory(pipeline=pipeline, by=admin))
    Order.objects.filter(pk=order.pk).update(fields={"brief-link": "https://example.com"})
    field = pipeline.fields.get()

    response = admin_client.post(
        reverse("backoffice:settings-field-edit", args=[field.pk]),
        {"label": "Brief link", "key": "brief-link", "kind": "number", "choices": "", "help_text": ""},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert "1 order has a value in “Brief link”" in response.content.decode()
    assert FieldDefinition.objects.get(pk=field.pk).kind == "url"


def test_deleting_a_field_a_stage_requires_is_refused_naming_the_stage(
    admin_client: Client, pipeline: Pipeline
) -> None:
    field = pipeline.fields.get()
    url = reverse("backoffice:settings-field-delete", args=[field.pk])

    confirm = admin_client.get(url, headers=HTMX).content.decode()
    assert "Stage Design needs this field" in confirm

    refused = admin_client.post(url, {}, headers=HTMX)
    assert refused.status_code == 422
    assert "Stage “Design” requires “Brief link” to enter" in refused.content.decode()
    assert FieldDefinition.objects.filter(pk=field.pk).exists()


# Query counts: a page costs the same with few or many rows.


def _grow(pipeline: Pipeline, admin: User, *, stages: int, fields: int, orders_per_stage: int) -> None:
    for n in range(fields):
        configure.create_field(pipeline, FieldSettings(label=f"Field {n}"), by=admin)
    field_keys = list(pipeline.fields.values_list("key", flat=True))
    for n in range(stages):
        configure.create_stage(
            pipeline,
            StageSettings(
                name=f"Stage {n}",
                allowed_from=["draft"],
                required_fields=field_keys[:3],
                allowed_roles=["admin"],
            ),
            by=admin,
        )
    for stage in pipeline.stages.all():
        for _ in range(orders_per_stage):
            OrderFactory(pipeline=pipeline, stage=stage)


@pytest.mark.parametrize(("stages", "fields", "orders"), [(0, 0, 0), (25, 15, 2)])
def test_the_stages_page_takes_a_fixed_number_of_queries(
    admin_client: Client,
    pipeline: Pipeline,
    admin: User,
    django_assert_num_queries: Any,
    stages: int,
    fields: int,
    orders: int,
) -> None:
    _grow(pipeline, admin, stages=stages, fields=fields, orders_per_stage=orders)
    url = reverse("backoffice:settings-stages", args=[pipeline.pk])

    # session, user, 2 x permissions, pipeline, stages with order counts, field labels
    with django_assert_num_queries(7):
        response = admin_client.get(url)

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="stage-row"') == 3 + stages


@pytest.mark.parametrize(("stages", "fields"), [(0, 0), (25, 15)])
def test_the_fields_page_takes_a_fixed_number_of_queries(
    admin_client: Client,
    pipeline: Pipeline,
    admin: User,
    django_assert_num_queries: Any,
    stages: int,
    fields: int,
) -> None:
    _grow(pipeline, admin, stages=stages, fields=fields, orders_per_stage=0)

    # session, user, 2 x permissions, pipeline, fields, stages (for "needed to enter")
    with django_assert_num_queries(7):
        response = admin_client.get(reverse("backoffice:settings-fields", args=[pipeline.pk]))

    assert response.content.decode().count('data-testid="field-row"') == 1 + fields


@pytest.mark.parametrize("pipelines", [1, 12])
def test_the_pipeline_list_takes_a_fixed_number_of_queries(
    admin_client: Client, admin: User, django_assert_num_queries: Any, pipelines: int
) -> None:
    for n in range(pipelines):
        created = configure.create_pipeline(
            PipelineSettings(name=f"Kind {n}", number_prefix=f"K{n}X"), by=admin
        )
        configure.create_stage(created, StageSettings(name="Start"), by=admin)
        OrderFactory(pipeline=created)

    # session, user, 2 x permissions, pipelines with their counts
    with django_assert_num_queries(5):
        response = admin_client.get(reverse("backoffice:settings-pipeline-list"))

    assert response.content.decode().count("<tr") == pipelines + 1


# In the browser: the keyboard, drag-and-drop and in-place editing really work.


def drag_row_to_the_top(page: Any, rows: Any, index: int) -> None:
    """Drag row `index` by its handle onto the first row, the way a person does it.

    SortableJS moves the row when the browser fires dragover, and ignores dragover for 30 ms after
    each swap and while the rows it swapped still animate (150 ms). A person's browser keeps firing
    dragover while the button is held, so the row reaches the top before they let go; Playwright
    fires one per mouse move only, so a quick last move could be ignored and the row dropped one place
    short (the flake this replaced). So: move in steps, then hold over the first row, repeating the
    pointer's position, until the list shows the row on top — what the person would see — and only
    then release.
    """
    moving_id = rows.nth(index).get_attribute("data-id")
    handle = rows.nth(index).locator(".drag-handle").bounding_box()
    top = rows.nth(0).bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    to_y = top["y"] + 6
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, y + (to_y - y) * step / 20)
    for wiggle in range(100):
        if rows.nth(0).get_attribute("data-id") == moving_id:
            break
        page.wait_for_timeout(50)
        page.mouse.move(x, to_y + wiggle % 2)
    else:
        raise AssertionError("the dragged row never reached the top of the list")
    page.mouse.up()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admin_reorders_by_keyboard_and_by_dragging_and_edits_in_place(
    live_server: Any, page: Any, screenshot: Any
) -> None:
    from playwright.sync_api import expect

    from tests.factories import TEST_PASSWORD

    admin = cast(User, UserFactory(role=Role.ADMIN, email="ada@agency.example", full_name="Ada Admin"))
    pipeline = configure.create_pipeline(PipelineSettings(name="Logo design", number_prefix="LOGO"), by=admin)
    for name in ("Draft", "Design", "Review", "Launched"):
        configure.create_stage(pipeline, StageSettings(name=name), by=admin)

    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("E-mail").fill("ada@agency.example")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Logo design").first.click()
    expect(page.get_by_test_id("stage-row")).to_have_count(4)
    screenshot(page, "stages")

    # The keyboard: the down arrow of Draft, pressed with Enter, keeps focus on that button.
    down = page.get_by_role("button", name="Move Draft down")
    down.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#settings-status")).to_have_text("“Draft” is now number 2.")
    expect(page.get_by_role("button", name="Move Draft down")).to_be_focused()
    assert keys_in_order(pipeline) == ["design", "draft", "review", "launched"]

    # Drag-and-drop: Launched by its handle onto the top of the list; the saved order comes back.
    rows = page.get_by_test_id("stage-row")
    drag_row_to_the_top(page, rows, 3)
    expect(page.locator("#settings-status")).to_have_text("New order saved.")
    expect(page.get_by_test_id("stage-list")).not_to_have_attribute("aria-busy", "true")
    expect(rows.nth(0)).to_contain_text("Launched")
    assert keys_in_order(pipeline) == ["launched", "design", "draft", "review"]

    # In-place editing: a refusal stays in the editor, a good value lands in the list.
    page.get_by_role("link", name="Edit Review").click()
    editor = page.get_by_test_id("stage-form")
    editor.get_by_label("Key").fill("draft")
    editor.get_by_role("button", name="Save stage").click()
    expect(editor).to_contain_text("“draft” is already used in this pipeline.")
    screenshot(page, "stage-editor-refused")
    editor.get_by_label("Key").fill("client-review")
    editor.get_by_label("Name").fill("Client review")
    editor.get_by_label("Design").check()
    editor.get_by_role("button", name="Save stage").click()
    expect(page.locator("#settings-status")).to_have_text("Stage “Client review” saved.")
    expect(page.get_by_test_id("stage-row").nth(3)).to_contain_text("Only from Design")
    assert pipeline.stages.get(key="client-review").allowed_from == ["design"]


def test_messages_to_the_client_use_the_description_in_their_language(
    admin: User, pipeline: Pipeline
) -> None:
    from orderflow.notifications.rendering import placeholder_values
    from tests.factories import ContactFactory

    stage = configure.create_stage(
        pipeline,
        StageSettings(
            name="Printing",
            client_description="We print your logo on the samples.",
            client_description_translations={"ru": "Печатаем логотип на образцах."},
        ),
        by=admin,
    )
    client = ContactFactory(language="ru")
    values = {
        language: placeholder_values(contact=client, order=None, stage=stage, language=language)
        for language in ("ru", "pt", "en")
    }
    assert values["ru"]["stage.description"] == "Печатаем логотип на образцах."
    assert values["pt"]["stage.description"] == "We print your logo on the samples."
    assert values["en"]["stage.description"] == "We print your logo on the samples."
