"""Admins shaping pipelines: pipelines, stages and fields are created, changed, reordered and deleted,
and every refusal explains itself and changes nothing."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.pipelines import configure
from orderflow.pipelines.configure import (
    ConfigForbiddenError,
    ConfigInputError,
    ConfigRefusedError,
    FieldSettings,
    PipelineSettings,
    StageSettings,
    check_key,
)
from orderflow.pipelines.models import FieldDefinition, Order, OrderEvent, Pipeline, Stage
from orderflow.pipelines.services import move_order
from tests.factories import ContactFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> User:
    return cast(User, UserFactory(role=Role.ADMIN, full_name="Ada Admin"))


@pytest.fixture
def pipeline(admin: User) -> Pipeline:
    """A small pipeline built with the services: draft → design → launched, plus on-hold; one field."""
    pipeline = configure.create_pipeline(PipelineSettings(name="Logo design", number_prefix="LOGO"), by=admin)
    configure.create_field(pipeline, FieldSettings(label="Brief link", kind="url"), by=admin)
    configure.create_stage(pipeline, StageSettings(name="Draft"), by=admin)
    configure.create_stage(
        pipeline,
        StageSettings(name="Design", allowed_from=["draft"], required_fields=["brief-link"]),
        by=admin,
    )
    configure.create_stage(
        pipeline, StageSettings(name="Launched", category="won", allowed_from=["design"]), by=admin
    )
    configure.create_stage(
        pipeline, StageSettings(name="On hold", category="on_hold", is_side=True), by=admin
    )
    return pipeline


def stage(pipeline: Pipeline, key: str) -> Stage:
    return pipeline.stages.get(key=key)


def keys_in_order(pipeline: Pipeline) -> list[str]:
    return list(pipeline.stages.order_by("position", "id").values_list("key", flat=True))


def snapshot(pipeline: Pipeline) -> dict[str, Any]:
    """Everything a settings change could touch, to prove a refusal changed nothing."""
    return {
        "pipeline": list(Pipeline.objects.filter(pk=pipeline.pk).values()),
        "stages": list(Stage.objects.filter(pipeline=pipeline).order_by("id").values()),
        "fields": list(FieldDefinition.objects.filter(pipeline=pipeline).order_by("id").values()),
        "orders": list(
            Order.objects.filter(pipeline=pipeline)
            .order_by("id")
            .values("id", "stage", "return_stage", "fields")
        ),
        "events": OrderEvent.objects.filter(order__pipeline=pipeline).count(),
    }


def order_in(pipeline: Pipeline, key: str, **fields: Any) -> Order:
    order = cast(Order, OrderFactory(pipeline=pipeline, stage=key))
    if fields:
        Order.objects.filter(pk=order.pk).update(fields=fields)
        order.refresh_from_db()
    return order


# Checks without I/O


@pytest.mark.parametrize("key", ["design", "design-review", "step_2", "a1"])
def test_slug_like_keys_are_accepted(key: str) -> None:
    assert check_key(key, taken=set()) is None


@pytest.mark.parametrize(
    "key", ["", "Design", "design review", "-design", "design-", "de--sign", "désign", "a" * 61]
)
def test_keys_that_are_not_slug_like_are_refused(key: str) -> None:
    assert check_key(key, taken=set())


def test_a_key_already_used_in_the_pipeline_is_refused() -> None:
    assert "already used" in str(check_key("design", taken={"design"}))


# Pipelines


def test_creating_a_pipeline_tidies_its_settings(admin: User) -> None:
    pipeline = configure.create_pipeline(
        PipelineSettings(name="  SEO retainer ", number_prefix=" seo ", currency="usd"), by=admin
    )

    assert (pipeline.name, pipeline.slug, pipeline.number_prefix, pipeline.currency, pipeline.is_active) == (
        "SEO retainer",
        "seo-retainer",
        "SEO",
        "USD",
        True,
    )


@pytest.mark.parametrize(
    ("values", "wrong"),
    [
        (PipelineSettings(name="", number_prefix="SEO"), "name"),
        (PipelineSettings(name="SEO", number_prefix="S"), "number_prefix"),
        (PipelineSettings(name="SEO", number_prefix="1SEO"), "number_prefix"),
        (PipelineSettings(name="SEO", number_prefix="SEO-X"), "number_prefix"),
        (PipelineSettings(name="SEO", number_prefix="SEO", currency="EURO"), "currency"),
        (PipelineSettings(name="SEO", number_prefix="SEO", slug="Not a slug"), "slug"),
        (PipelineSettings(name="Other", number_prefix="LOGO"), "number_prefix"),
        (PipelineSettings(name="Other", number_prefix="OTH", slug="logo-design"), "slug"),
    ],
)
def test_a_pipeline_with_wrong_settings_is_refused_and_not_created(
    pipeline: Pipeline, admin: User, values: PipelineSettings, wrong: str
) -> None:
    with pytest.raises(ConfigInputError) as refused:
        configure.create_pipeline(values, by=admin)

    assert list(refused.value.errors) == [wrong]
    assert Pipeline.objects.count() == 1


def test_a_rep_may_not_create_or_change_pipelines(pipeline: Pipeline) -> None:
    rep = cast(User, UserFactory(role=Role.REP))
    before = snapshot(pipeline)

    with pytest.raises(ConfigForbiddenError):
        configure.create_pipeline(PipelineSettings(name="SEO", number_prefix="SEO"), by=rep)
    with pytest.raises(ConfigForbiddenError):
        configure.update_stage(stage(pipeline, "draft"), StageSettings(name="Renamed", key="draft"), by=rep)
    with pytest.raises(ConfigForbiddenError):
        configure.delete_stage(stage(pipeline, "draft"), move_orders_to=None, by=rep)

    assert snapshot(pipeline) == before
    assert Pipeline.objects.count() == 1


def test_editing_a_pipeline_changes_its_settings(pipeline: Pipeline, admin: User) -> None:
    configure.update_pipeline(
        pipeline,
        PipelineSettings(name="Logos", slug="logos", number_prefix="LG", currency="GBP", description="Marks"),
        by=admin,
    )

    pipeline.refresh_from_db()
    assert (
        pipeline.name,
        pipeline.slug,
        pipeline.number_prefix,
        pipeline.currency,
        pipeline.description,
    ) == (
        "Logos",
        "logos",
        "LG",
        "GBP",
        "Marks",
    )


def test_the_number_prefix_is_fixed_once_orders_are_numbered(pipeline: Pipeline, admin: User) -> None:
    order_in(pipeline, "draft")
    before = snapshot(pipeline)

    with pytest.raises(ConfigInputError) as refused:
        configure.update_pipeline(pipeline, PipelineSettings(name="Logos", number_prefix="LG"), by=admin)

    assert "LOGO-" in refused.value.errors["number_prefix"]
    assert snapshot(pipeline) == before


def test_a_deactivated_pipeline_keeps_its_orders_and_can_be_reactivated(
    pipeline: Pipeline, admin: User
) -> None:
    order = order_in(pipeline, "draft")

    configure.set_pipeline_active(pipeline, is_active=False, by=admin)
    assert Pipeline.objects.get(pk=pipeline.pk).is_active is False
    assert Order.objects.get(pk=order.pk).stage.key == "draft"

    configure.set_pipeline_active(pipeline, is_active=True, by=admin)
    assert Pipeline.objects.get(pk=pipeline.pk).is_active is True


# Stages


def test_a_new_stage_goes_last_with_a_key_made_from_its_name(pipeline: Pipeline, admin: User) -> None:
    new = configure.create_stage(
        pipeline,
        StageSettings(
            name="Final Review",
            client_label="Your final look",
            client_label_translations={"pt": " Revisão final ", "ru": ""},
            color="#AABBCC",
            allowed_roles=["admin", "manager"],
            allowed_from=["design"],
            required_fields=["brief-link"],
            max_days=5,
        ),
        by=admin,
    )

    new.refresh_from_db()
    assert keys_in_order(pipeline)[-1] == "final-review"
    assert new.client_label_translations == {"pt": "Revisão final"}
    assert new.label_for_client_in("pt") == "Revisão final"
    assert new.label_for_client_in("ru") == "Your final look"
    assert (new.color, new.allowed_roles, new.allowed_from, new.required_fields, new.max_days) == (
        "#aabbcc",
        ["admin", "manager"],
        ["design"],
        ["brief-link"],
        5,
    )


@pytest.mark.parametrize(
    ("values", "wrong"),
    [
        (StageSettings(name="Design"), "key"),
        (StageSettings(name="Review", key="Review Step"), "key"),
        (StageSettings(name="Review", color="blue"), "color"),
        (StageSettings(name="Review", color="#12345"), "color"),
        (StageSettings(name="Review", category="paused"), "category"),
        (StageSettings(name="Review", allowed_roles=["client"]), "allowed_roles"),
        (StageSettings(name="Review", allowed_from=["nowhere"]), "allowed_from"),
        (StageSettings(name="Review", allowed_from=["review"]), "allowed_from"),
        (StageSettings(name="Review", required_fields=["budget"]), "required_fields"),
        (StageSettings(name="Review", max_days=0), "max_days"),
        (
            StageSettings(name="Review", client_label_translations={"de": "Prüfung"}),
            "client_label_translations",
        ),
        (StageSettings(name="   "), "name"),
    ],
)
def test_a_stage_with_wrong_settings_is_refused_and_not_created(
    pipeline: Pipeline, admin: User, values: StageSettings, wrong: str
) -> None:
    before = snapshot(pipeline)

    with pytest.raises(ConfigInputError) as refused:
        configure.create_stage(pipeline, values, by=admin)

    assert wrong in refused.value.errors
    assert snapshot(pipeline) == before


def test_a_stage_may_be_left_to_the_contractor_but_never_to_the_client(
    pipeline: Pipeline, admin: User
) -> None:
    with pytest.raises(ConfigInputError) as refused:
        configure.create_stage(
            pipeline, StageSettings(name="Sent", allowed_roles=["contractor", "client"]), by=admin
        )
    assert refused.value.errors == {
        "allowed_roles": "Clients do not set stages by hand; a rule moves the order when the client "
        "answers, books or pays."
    }

    sent = configure.create_stage(
        pipeline, StageSettings(name="Sent", allowed_roles=["contractor", "manager"]), by=admin
    )
    sent.refresh_from_db()
    assert sent.allowed_roles == ["contractor", "manager"]


def test_every_wrong_value_is_reported_at_once(pipeline: Pipeline, admin: User) -> None:
    with pytest.raises(ConfigInputError) as refused:
        configure.create_stage(pipeline, StageSettings(name="Draft", color="red", max_days=0), by=admin)

    assert set(refused.value.errors) == {"key", "color", "max_days"}


def test_renaming_a_stage_key_follows_into_other_stages_entry_rules(pipeline: Pipeline, admin: User) -> None:
    design = stage(pipeline, "design")

    configure.update_stage(
        design,
        StageSettings(
            name="Design work", key="design-work", allowed_from=["draft"], required_fields=["brief-link"]
        ),
        by=admin,
    )

    assert keys_in_order(pipeline) == ["draft", "design-work", "launched", "on-hold"]
    assert stage(pipeline, "launched").allowed_from == ["design-work"]
    assert stage(pipeline, "design-work").name == "Design work"


def test_a_stage_edit_with_a_taken_key_changes_nothing(pipeline: Pipeline, admin: User) -> None:
    before = snapshot(pipeline)

    with pytest.raises(ConfigInputError, match="already used"):
        configure.update_stage(stage(pipeline, "design"), StageSettings(name="Design", key="draft"), by=admin)

    assert snapshot(pipeline) == before


def test_stages_can_be_put_in_a_new_order(pipeline: Pipeline, admin: User) -> None:
    ids = {key: stage(pipeline, key).pk for key in keys_in_order(pipeline)}

    configure.reorder_stages(
        pipeline, [ids["on-hold"], ids["draft"], ids["launched"], ids["design"]], by=admin
    )

    assert keys_in_order(pipeline) == ["on-hold", "draft", "launched", "design"]


@pytest.mark.parametrize("change", ["missing", "extra", "duplicate", "foreign"])
def test_a_reorder_that_does_not_name_every_stage_once_changes_nothing(
    pipeline: Pipeline, admin: User, change: str
) -> None:
    ids = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
    other = configure.create_pipeline(PipelineSettings(name="Other", number_prefix="OTH"), by=admin)
    foreign = configure.create_stage(other, StageSettings(name="Elsewhere"), by=admin)
    wrong = {
        "missing": ids[:-1],
        "extra": [*ids, 999_999],
        "duplicate": [ids[0], *ids[:-1]],
        "foreign": [*ids[:-1], foreign.pk],
    }[change]
    before = snapshot(pipeline)

    with pytest.raises(ConfigRefusedError) as refused:
        configure.reorder_stages(pipeline, list(reversed(wrong)), by=admin)

    assert refused.value.code == "order_outdated"
    assert snapshot(pipeline) == before


def test_arrow_buttons_move_a_stage_one_place_and_stop_at_the_ends(pipeline: Pipeline, admin: User) -> None:
    configure.shift_stage(stage(pipeline, "launched"), steps=-1, by=admin)
    assert keys_in_order(pipeline) == ["draft", "launched", "design", "on-hold"]

    configure.shift_stage(stage(pipeline, "draft"), steps=-1, by=admin)
    configure.shift_stage(stage(pipeline, "on-hold"), steps=1, by=admin)
    assert keys_in_order(pipeline) == ["draft", "launched", "design", "on-hold"]


def test_deleting_a_stage_moves_its_orders_and_tells_their_timelines(pipeline: Pipeline, admin: User) -> None:
    in_design = [order_in(pipeline, "design") for _ in range(3)]
    elsewhere = order_in(pipeline, "draft")
    design, draft = stage(pipeline, "design"), stage(pipeline, "draft")

    moved = configure.delete_stage(design, move_orders_to=draft, by=admin)

    assert moved == 3
    assert keys_in_order(pipeline) == ["draft", "launched", "on-hold"]
    for order in in_design:
        order.refresh_from_db()
        assert order.stage == draft
        event = order.events.order_by("created_at", "id").last()
        assert event is not None
        assert (event.kind, event.audience, event.actor, event.to_stage, event.message) == (
            OrderEvent.Kind.STAGE_CHANGED,
            OrderEvent.Audience.INTERNAL,
            admin,
            draft,
            "Stage “Design” was deleted.",
        )
        assert event.data["deleted_stage"]["key"] == "design"
    assert elsewhere.events.count() == 1
    # "Launched" could be entered only from Design; that reference is gone.
    assert stage(pipeline, "launched").allowed_from == []


def test_orders_on_hold_that_would_return_to_a_deleted_stage_return_to_the_new_one(
    pipeline: Pipeline, admin: User
) -> None:
    order = order_in(pipeline, "design")
    move_order(order, stage(pipeline, "on-hold"), by=admin)
    assert Order.objects.get(pk=order.pk).return_stage == stage(pipeline, "design")

    configure.delete_stage(stage(pipeline, "design"), move_orders_to=stage(pipeline, "draft"), by=admin)

    order.refresh_from_db()
    assert (order.stage.key, order.return_stage and order.return_stage.key) == ("on-hold", "draft")


def test_an_empty_stage_is_deleted_without_asking_where_orders_go(pipeline: Pipeline, admin: User) -> None:
    assert configure.delete_stage(stage(pipeline, "launched"), move_orders_to=None, by=admin) == 0
    assert keys_in_order(pipeline) == ["draft", "design", "on-hold"]


def test_deleting_a_stage_that_holds_orders_needs_a_target_and_changes_nothing_without(
    pipeline: Pipeline, admin: User
) -> None:
    order_in(pipeline, "design")
    before = snapshot(pipeline)

    with pytest.raises(ConfigInputError) as refused:
        configure.delete_stage(stage(pipeline, "design"), move_orders_to=None, by=admin)

    assert "move_orders_to" in refused.value.errors
    assert snapshot(pipeline) == before


def test_orders_cannot_be_moved_to_a_stage_of_another_pipeline(pipeline: Pipeline, admin: User) -> None:
    order_in(pipeline, "design")
    other = configure.create_pipeline(PipelineSettings(name="Other", number_prefix="OTH"), by=admin)
    foreign = configure.create_stage(other, StageSettings(name="Elsewhere"), by=admin)
    before = snapshot(pipeline)

    with pytest.raises(ConfigInputError, match="another pipeline"):
        configure.delete_stage(stage(pipeline, "design"), move_orders_to=foreign, by=admin)
    with pytest.raises(ConfigInputError, match="other than"):
        configure.delete_stage(stage(pipeline, "design"), move_orders_to=stage(pipeline, "design"), by=admin)

    assert snapshot(pipeline) == before


def test_the_last_stage_of_a_pipeline_cannot_be_deleted(admin: User) -> None:
    pipeline = configure.create_pipeline(PipelineSettings(name="Tiny", number_prefix="TINY"), by=admin)
    only = configure.create_stage(pipeline, StageSettings(name="Only"), by=admin)

    with pytest.raises(ConfigRefusedError, match="only stage") as refused:
        configure.delete_stage(only, move_orders_to=None, by=admin)

    assert refused.value.code == "stage_last"
    assert Stage.objects.filter(pk=only.pk).exists()


def test_deleting_a_stage_with_many_orders_takes_a_bounded_number_of_queries(
    pipeline: Pipeline, admin: User
) -> None:
    design, draft = stage(pipeline, "design"), stage(pipeline, "draft")
    client = cast(Contact, ContactFactory())
    Order.objects.bulk_create(
        Order(pipeline=pipeline, number=n, title=f"Logo {n}", stage=design, client=client)
        for n in range(1, 1201)
    )

    with CaptureQueriesContext(connection) as queries:
        moved = configure.delete_stage(design, move_orders_to=draft, by=admin)

    assert moved == 1200
    assert Order.objects.filter(stage=draft).count() == 1200
    assert (
        OrderEvent.objects.filter(order__pipeline=pipeline, kind=OrderEvent.Kind.STAGE_CHANGED).count()
        == 1200
    )
    assert len(queries) <= 30, [query["sql"][:80] for query in queries.captured_queries]


# Custom fields


def test_a_new_field_goes_last_and_keeps_choices_only_for_the_choice_type(
    pipeline: Pipeline, admin: User
) -> None:
    size = configure.create_field(
        pipeline, FieldSettings(label="Size", kind="choice", choices=["Small", " Large ", ""]), by=admin
    )
    budget = configure.create_field(
        pipeline, FieldSettings(label="Budget", kind="money", choices=["ignored"]), by=admin
    )

    assert list(pipeline.fields.order_by("position").values_list("key", flat=True)) == [
        "brief-link",
        "size",
        "budget",
    ]
    assert (size.choices, budget.choices) == (["Small", "Large"], [])


@pytest.mark.parametrize(
    ("values", "wrong"),
    [
        (FieldSettings(label="Brief link"), "key"),
        (FieldSettings(label="Size", kind="choice"), "choices"),
        (FieldSettings(label="Size", kind="choice", choices=["S", "S"]), "choices"),
        (FieldSettings(label="Size", kind="colour"), "kind"),
        (FieldSettings(label="Size", key="Size!"), "key"),
        (FieldSettings(label=""), "label"),
    ],
)
def test_a_field_with_wrong_settings_is_refused_and_not_created(
    pipeline: Pipeline, admin: User, values: FieldSettings, wrong: str
) -> None:
    before = snapshot(pipeline)

    with pytest.raises(ConfigInputError) as refused:
        configure.create_field(pipeline, values, by=admin)

    assert wrong in refused.value.errors
    assert snapshot(pipeline) == before


def test_a_field_type_cannot_change_while_an_order_holds_a_value(pipeline: Pipeline, admin: User) -> None:
    order_in(pipeline, "draft", **{"brief-link": "https://example.com/brief"})
    field = pipeline.fields.get(key="brief-link")
    before = snapshot(pipeline)

    with pytest.raises(ConfigInputError) as refused:
        configure.update_field(field, FieldSettings(label="Brief", key="brief-link", kind="text"), by=admin)

    assert "1 order has a value in “Brief link”" in refused.value.errors["kind"]
    assert snapshot(pipeline) == before


def test_a_field_type_can_change_while_no_order_holds_a_value(pipeline: Pipeline, admin: User) -> None:
    order_in(pipeline, "draft", **{"brief-link": None})
    field = pipeline.fields.get(key="brief-link")

    configure.update_field(field, FieldSettings(label="Brief", key="brief-link", kind="text"), by=admin)

    field.refresh_from_db()
    assert (field.label, field.kind) == ("Brief", "text")


def test_a_new_field_key_follows_into_the_stages_that_require_it(pipeline: Pipeline, admin: User) -> None:
    field = pipeline.fields.get(key="brief-link")

    configure.update_field(field, FieldSettings(label="Brief", key="brief", kind="url"), by=admin)

    assert stage(pipeline, "design").required_fields == ["brief"]


def test_a_choice_that_orders_hold_cannot_be_removed(pipeline: Pipeline, admin: User) -> None:
    size = configure.create_field(
        pipeline, FieldSettings(label="Size", kind="choice", choices=["Small", "Medium", "Large"]), by=admin
    )
    order_in(pipeline, "draft", size="Large")
    before = snapshot(pipeline)

    with pytest.raises(ConfigInputError) as refused:
        configure.update_field(
            size, FieldSettings(label="Size", key="size", kind="choice", choices=["Small"]), by=admin
        )

    assert refused.value.errors["choices"] == "Orders still hold “Large”; keep those choices."
    assert snapshot(pipeline) == before
    configure.update_field(
        size, FieldSettings(label="Size", key="size", kind="choice", choices=["Small", "Large"]), by=admin
    )
    assert FieldDefinition.objects.get(pk=size.pk).choices == ["Small", "Large"]


def test_a_field_a_stage_requires_cannot_be_deleted(pipeline: Pipeline, admin: User) -> None:
    before = snapshot(pipeline)

    with pytest.raises(ConfigRefusedError) as refused:
        configure.delete_field(pipeline.fields.get(key="brief-link"), by=admin)

    assert refused.value.message == "Stage “Design” requires “Brief link” to enter; remove it there first."
    assert snapshot(pipeline) == before


def test_deleting_a_field_removes_its_values_and_keeps_them_in_the_timeline(
    pipeline: Pipeline, admin: User
) -> None:
    size = configure.create_field(
        pipeline, FieldSettings(label="Size", kind="choice", choices=["S", "L"]), by=admin
    )
    holding = order_in(pipeline, "draft", size="L", **{"brief-link": "https://example.com"})
    without = order_in(pipeline, "draft")

    assert configure.delete_field(size, by=admin) == 1

    holding.refresh_from_db()
    assert holding.fields == {"brief-link": "https://example.com"}
    event = holding.events.get(kind=OrderEvent.Kind.UPDATED)
    assert (event.audience, event.data["deleted_field"]["value"]) == (OrderEvent.Audience.INTERNAL, "L")
    assert without.events.count() == 1
    assert not FieldDefinition.objects.filter(pk=size.pk).exists()


def test_fields_can_be_reordered_by_list_and_by_arrows(pipeline: Pipeline, admin: User) -> None:
    budget = configure.create_field(pipeline, FieldSettings(label="Budget", kind="money"), by=admin)
    brief = pipeline.fields.get(key="brief-link")

    configure.reorder_fields(pipeline, [budget.pk, brief.pk], by=admin)
    assert list(pipeline.fields.order_by("position").values_list("key", flat=True)) == [
        "budget",
        "brief-link",
    ]

    configure.shift_field(budget, steps=1, by=admin)
    assert list(pipeline.fields.order_by("position").values_list("key", flat=True)) == [
        "brief-link",
        "budget",
    ]
