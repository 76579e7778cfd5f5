"""Opening and moving orders: numbering, the timeline, the refusals, and moves racing each other."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.pipelines.models import Order, OrderEvent, Pipeline, Stage
from orderflow.pipelines.services import StageGuardError, move_order
from tests.factories import OrderFactory, PipelineFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_order_numbers_are_sequential_within_a_pipeline(web_pipeline: Pipeline) -> None:
    first = OrderFactory(pipeline=web_pipeline)
    second = OrderFactory(pipeline=web_pipeline)

    assert (first.reference, second.reference) == ("WEB-00001", "WEB-00002")


def test_each_pipeline_numbers_its_orders_from_one(web_pipeline: Pipeline) -> None:
    other = PipelineFactory(number_prefix="SEO", slug="seo", name="SEO retainer")
    OrderFactory(pipeline=web_pipeline)
    OrderFactory(pipeline=web_pipeline)

    seo_order = OrderFactory(pipeline=other)

    assert seo_order.reference == "SEO-00001"
    assert OrderFactory(pipeline=web_pipeline).reference == "WEB-00003"


def test_new_order_starts_in_the_first_stage_with_a_created_event(web_pipeline: Pipeline, rep: User) -> None:
    order = OrderFactory(pipeline=web_pipeline, by=rep)

    assert order.stage.key == "order-received"
    assert order.owner == rep
    assert list(order.events.values_list("kind", "actor", "to_stage")) == [
        (OrderEvent.Kind.CREATED, rep.pk, order.stage_id)
    ]


def test_moving_an_order_changes_its_stage_and_records_who_from_where_and_why(
    web_pipeline: Pipeline, rep: User
) -> None:
    order = OrderFactory(pipeline=web_pipeline)
    received = order.stage
    questionnaire_sent = web_pipeline.stages.get(key="questionnaire-sent")

    event = move_order(order, questionnaire_sent, by=rep, reason="  Paid in full  ")

    order.refresh_from_db()
    assert order.stage == questionnaire_sent
    assert event.kind == OrderEvent.Kind.STAGE_CHANGED
    assert (event.from_stage, event.to_stage, event.actor, event.message) == (
        received,
        questionnaire_sent,
        rep,
        "Paid in full",
    )
    assert event.audience == OrderEvent.Audience.CLIENT
    assert order.events.order_by("created_at", "id").last() == event


def _stage_and_event_count(order: Order) -> tuple[int, int]:
    fresh = Order.objects.get(pk=order.pk)
    return fresh.stage_id, fresh.events.count()


def test_moving_to_the_stage_the_order_is_in_is_refused_and_changes_nothing(
    web_pipeline: Pipeline, rep: User
) -> None:
    order = OrderFactory(pipeline=web_pipeline)
    before = _stage_and_event_count(order)

    with pytest.raises(StageGuardError, match="already in") as refused:
        move_order(order, order.stage, by=rep)

    assert refused.value.code == "stage_unchanged"
    assert _stage_and_event_count(order) == before


def test_moving_to_a_stage_of_another_pipeline_is_refused_and_changes_nothing(
    web_pipeline: Pipeline, rep: User
) -> None:
    order = OrderFactory(pipeline=web_pipeline)
    foreign_stage = PipelineFactory().stages.get(key="questionnaire-sent")
    before = _stage_and_event_count(order)

    with pytest.raises(StageGuardError, match="another pipeline") as refused:
        move_order(order, foreign_stage, by=rep)

    assert refused.value.code == "stage_other_pipeline"
    assert _stage_and_event_count(order) == before


@pytest.mark.parametrize(
    ("role", "code"),
    [
        (Role.CLIENT, "stage_forbidden"),
        (None, "stage_forbidden"),
        (Role.CONTRACTOR, "stage_role"),  # a staff stage: "Contractors may not move an order to …"
    ],
)
def test_a_user_without_the_move_permission_cannot_move_an_order(
    web_pipeline: Pipeline, role: str | None, code: str
) -> None:
    outsider = UserFactory(role=role)
    order = OrderFactory(pipeline=web_pipeline)
    before = _stage_and_event_count(order)

    with pytest.raises(StageGuardError, match="may not move") as refused:
        move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=outsider)

    assert refused.value.code == code
    assert _stage_and_event_count(order) == before


def test_an_order_event_cannot_be_edited_after_it_is_saved(web_pipeline: Pipeline, rep: User) -> None:
    order = OrderFactory(pipeline=web_pipeline)
    event = move_order(order, web_pipeline.stages.get(key="questionnaire-sent"), by=rep, reason="first")

    event.message = "rewritten history"
    with pytest.raises(ValidationError, match="append-only"):
        event.save()

    event.refresh_from_db()
    assert event.message == "first"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_two_people_moving_the_same_order_at_once_lose_no_update(
    web_pipeline: Pipeline, rep: User, attempt: int
) -> None:
    colleague = UserFactory(role=Role.MANAGER)
    order = OrderFactory(pipeline=web_pipeline)
    start = order.stage
    targets = {
        rep: web_pipeline.stages.get(key="questionnaire-sent"),
        colleague: web_pipeline.stages.get(key="on-hold"),
    }
    barrier = threading.Barrier(len(targets))
    outcomes: dict[str, str] = {}

    def move(person: User) -> None:
        try:
            mine = Order.objects.get(pk=order.pk)  # each person's page loaded the order before either moved
            barrier.wait(timeout=10)
            move_order(mine, targets[person], by=person)
            outcomes[person.email] = "moved"
        except StageGuardError:
            outcomes[person.email] = "refused"
        except Exception as error:
            outcomes[person.email] = f"crashed: {type(error).__name__}: {error}"
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(person,)) for person in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert set(outcomes) == {rep.email, colleague.email}
    crashes = [outcome for outcome in outcomes.values() if outcome.startswith("crashed")]
    assert not crashes, f"a move that had to wait for the other one crashed instead: {crashes}"
    order.refresh_from_db()
    assert order.stage in targets.values()
    moves = list(order.events.filter(kind=OrderEvent.Kind.STAGE_CHANGED).order_by("created_at", "id"))
    assert len(moves) == list(outcomes.values()).count("moved")
    previous_stage: Stage | None = start
    for event in moves:
        assert event.from_stage == previous_stage, (
            "a move was recorded from a stage the order had already left"
        )
        previous_stage = event.to_stage
    assert previous_stage == order.stage
