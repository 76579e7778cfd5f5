"""The academic-writing template (seed 004): who may open bidding, assign, return and accept the work."""

from __future__ import annotations

import pytest

from orderflow.accounts.roles import Role
from orderflow.pipelines.models import Order, Pipeline
from orderflow.pipelines.process_io import SHIPPED_DIR, import_process_template
from orderflow.pipelines.services import StageGuardError, create_order, move_order, update_order
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

READY_FOR_BIDDING = {
    "discipline": "Law",
    "work-type": "Coursework",
    "deadline": "2031-06-01",
    "bidding-closes": "2031-05-01",
}


@pytest.fixture
def pipeline() -> Pipeline:
    return import_process_template((SHIPPED_DIR / "academic-writing.yaml").read_text(encoding="utf-8"))


def _order(pipeline: Pipeline) -> Order:
    manager = UserFactory(role=Role.MANAGER)
    order = create_order(
        pipeline=pipeline, client=ContactFactory(), title="Coursework on contract law", by=manager
    )
    update_order(order, by=manager, fields=READY_FOR_BIDDING)
    return order


def test_the_main_path_follows_the_seed(pipeline: Pipeline) -> None:
    main = pipeline.stages.filter(is_side=False).order_by("position")
    assert [stage.name for stage in main] == [
        "Request Received",
        "Under Evaluation",
        "Author Assigned",
        "In Progress",
        "Work Submitted",
        "Revision",
        "Accepted",
    ]
    side = pipeline.stages.filter(is_side=True).order_by("position")
    assert [stage.name for stage in side] == ["On Hold", "No Author Found", "Cancelled"]


def test_only_managers_open_bidding_assign_return_and_accept(pipeline: Pipeline) -> None:
    order = _order(pipeline)
    rep = UserFactory(role=Role.REP)
    manager = UserFactory(role=Role.MANAGER)
    stage = {stage.key: stage for stage in pipeline.stages.all()}

    with pytest.raises(StageGuardError) as refused:
        move_order(order, stage["under-evaluation"], by=rep)
    assert refused.value.code == "stage_role"
    move_order(order, stage["under-evaluation"], by=manager)

    with pytest.raises(StageGuardError, match="Author's fee"):
        move_order(order, stage["author-assigned"], by=manager)
    update_order(order, by=manager, fields={**READY_FOR_BIDDING, "author-fee": "9000"})
    with pytest.raises(StageGuardError, match="Only admin, manager"):
        move_order(order, stage["author-assigned"], by=rep)
    move_order(order, stage["author-assigned"], by=manager)

    move_order(order, stage["in-progress"], by=rep)
    move_order(order, stage["work-submitted"], by=manager)  # the author sent the work by e-mail
    with pytest.raises(StageGuardError):
        move_order(order, stage["revision"], by=rep)
    move_order(order, stage["revision"], by=manager)
    move_order(order, stage["work-submitted"], by=manager)
    with pytest.raises(StageGuardError):
        move_order(order, stage["accepted"], by=rep)
    move_order(order, stage["accepted"], by=manager)
    order.refresh_from_db()
    assert order.stage.key == "accepted"


def test_work_cannot_skip_the_review(pipeline: Pipeline) -> None:
    order = _order(pipeline)
    manager = UserFactory(role=Role.MANAGER)
    stage = {stage.key: stage for stage in pipeline.stages.all()}

    for key in ("author-assigned", "in-progress", "work-submitted", "revision", "accepted"):
        with pytest.raises(StageGuardError) as refused:
            move_order(order, stage[key], by=manager)
        assert refused.value.code in {"stage_not_from_here", "stage_fields_missing"}, key
    order.refresh_from_db()
    assert order.stage.key == "request-received"


def test_a_manager_may_give_up_finding_an_author_from_any_stage(pipeline: Pipeline) -> None:
    order = _order(pipeline)
    no_author = pipeline.stages.get(key="no-author")
    with pytest.raises(StageGuardError):
        move_order(order, no_author, by=UserFactory(role=Role.REP))
    move_order(order, no_author, by=UserFactory(role=Role.MANAGER))
    order.refresh_from_db()
    assert order.stage == no_author


def test_work_submitted_is_the_authors_stage_and_staff_set_it_only_as_managers(pipeline: Pipeline) -> None:
    order = _order(pipeline)
    manager = UserFactory(role=Role.MANAGER)
    stage = {stage.key: stage for stage in pipeline.stages.all()}
    update_order(order, by=manager, fields={**READY_FOR_BIDDING, "author-fee": "9000"})
    for key in ("under-evaluation", "author-assigned", "in-progress"):
        move_order(order, stage[key], by=manager)
    assert stage["work-submitted"].allowed_roles == ["contractor", "admin", "manager"]

    with pytest.raises(StageGuardError) as rep_refused:
        move_order(order, stage["work-submitted"], by=UserFactory(role=Role.REP))
    author = UserFactory(role=Role.CONTRACTOR)
    with pytest.raises(StageGuardError) as author_refused:
        move_order(order, stage["work-submitted"], by=author)
    with pytest.raises(StageGuardError) as author_accepting:
        move_order(order, stage["accepted"], by=author)

    assert rep_refused.value.message == (
        "Only admin, manager or the order's contractor may move an order to “Work Submitted”."
    )
    # No author is assigned to an order yet (no contractor portal): the author is told so, honestly.
    assert author_refused.value.code == "stage_contractor_not_assigned"
    assert author_accepting.value.code == "stage_role"
    order.refresh_from_db()
    assert order.stage.key == "in-progress"
    move_order(order, stage["work-submitted"], by=manager)
    assert order.stage.key == "work-submitted"
