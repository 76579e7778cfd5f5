"""Stage guards, side statuses, order updates and staff tasks, as a rep experiences them."""

import pytest

from orderflow.accounts.roles import Role
from orderflow.pipelines.custom_fields import CustomFieldError
from orderflow.pipelines.models import FieldDefinition, OrderEvent
from orderflow.pipelines.services import (
    StageGuardError,
    TaskInputError,
    complete_task,
    create_task,
    leave_side_status,
    move_order,
    update_order,
)
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def _stage(order, key):
    return order.pipeline.stages.get(key=key)


def test_required_field_blocks_the_move_until_it_is_filled(rep):
    order = OrderFactory(by=rep)
    FieldDefinition.objects.create(pipeline=order.pipeline, key="domain", label="Domain name")
    launched = _stage(order, "site-launched")
    launched.required_fields = ["domain"]
    launched.save()

    with pytest.raises(StageGuardError, match="Domain name") as refused:
        move_order(order, launched, by=rep)
    assert refused.value.code == "stage_fields_missing"
    order.refresh_from_db()
    assert order.stage.key == "order-received"

    update_order(order, by=rep, fields={"domain": "bakery.pt"})
    move_order(order, launched, by=rep)
    order.refresh_from_db()
    assert order.stage == launched


def test_a_stage_only_some_roles_may_set(rep):
    manager = UserFactory(role=Role.MANAGER)
    order = OrderFactory(by=rep)
    approved = _stage(order, "website-approved")
    approved.allowed_roles = [Role.MANAGER]
    approved.save()

    with pytest.raises(StageGuardError, match="Only manager") as refused:
        move_order(order, approved, by=rep)
    assert refused.value.code == "stage_role"
    move_order(order, approved, by=manager)
    assert order.stage == approved


def test_a_rule_moving_the_order_is_not_bound_by_roles(rep):
    order = OrderFactory(by=rep)
    approved = _stage(order, "website-approved")
    approved.allowed_roles = [Role.MANAGER]
    approved.save()
    move_order(order, approved, by=None)
    assert order.stage == approved


def test_a_stage_reached_only_from_its_predecessor(rep):
    order = OrderFactory(by=rep)
    received = _stage(order, "questionnaire-received")
    received.allowed_from = ["questionnaire-sent"]
    received.save()
    with pytest.raises(StageGuardError, match="can't be reached"):
        move_order(order, received, by=rep)
    move_order(order, _stage(order, "questionnaire-sent"), by=rep)
    move_order(order, received, by=rep)
    assert order.stage == received


def test_side_status_is_set_from_anywhere_and_left_back_to_where_the_order_was(rep):
    order = OrderFactory(by=rep, stage="initial-design-in-production")
    on_hold = _stage(order, "on-hold")
    on_hold.allowed_from = ["order-received"]  # ignored for side statuses
    on_hold.save()

    move_order(order, on_hold, by=rep, reason="Client on holiday")
    order.refresh_from_db()
    assert order.stage == on_hold
    assert order.return_stage is not None
    assert order.return_stage.key == "initial-design-in-production"

    event = leave_side_status(order, by=rep)
    order.refresh_from_db()
    assert order.stage.key == "initial-design-in-production"
    assert order.return_stage is None
    assert event.from_stage == on_hold


def test_returning_from_a_side_status_ignores_allowed_from(rep):
    order = OrderFactory(by=rep, stage="questionnaire-sent")
    sent = _stage(order, "questionnaire-sent")
    sent.allowed_from = ["order-received"]
    sent.save()
    move_order(order, _stage(order, "waiting-for-content"), by=rep)
    leave_side_status(order, by=rep)
    assert order.stage == sent


def test_leaving_a_side_status_when_not_in_one_is_refused(rep):
    order = OrderFactory(by=rep)
    with pytest.raises(StageGuardError, match="not in a side status"):
        leave_side_status(order, by=rep)


def test_update_records_one_internal_event_with_old_and_new_values(rep):
    order = OrderFactory(by=rep)
    FieldDefinition.objects.create(pipeline=order.pipeline, key="pages", label="Pages", kind="number")
    update_order(order, by=rep, title="Bakery site v2", fields={"pages": "5"}, tags=["vip", "rush", "vip"])

    event = order.events.get(kind=OrderEvent.Kind.UPDATED)
    assert event.audience == OrderEvent.Audience.INTERNAL
    assert event.data["changes"]["title"][1] == "Bakery site v2"
    assert event.data["changes"]["fields.pages"] == [None, "5"]
    assert event.data["changes"]["tags"] == [[], ["rush", "vip"]]
    assert sorted(order.tags.values_list("name", flat=True)) == ["rush", "vip"]


def test_a_wrong_field_value_saves_nothing(rep):
    order = OrderFactory(by=rep)
    FieldDefinition.objects.create(pipeline=order.pipeline, key="pages", label="Pages", kind="number")
    with pytest.raises(CustomFieldError):
        update_order(order, by=rep, title="Changed", fields={"pages": "many"})
    order.refresh_from_db()
    assert order.title != "Changed"
    assert not order.events.filter(kind=OrderEvent.Kind.UPDATED).exists()


def test_saving_unchanged_details_adds_no_event(rep):
    order = OrderFactory(by=rep)
    update_order(order, by=rep, title=order.title)
    assert not order.events.filter(kind=OrderEvent.Kind.UPDATED).exists()


def test_task_on_an_order_is_on_the_timeline_and_completing_twice_is_harmless(rep):
    order = OrderFactory(by=rep)
    task = create_task(order=order, title="Call the client to review answers", assignee=rep, by=rep)
    complete_task(task, by=rep)
    first_done_at = task.__class__.objects.get(pk=task.pk).done_at
    complete_task(task, by=rep)
    assert task.__class__.objects.get(pk=task.pk).done_at == first_done_at
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds.count(OrderEvent.Kind.TASK_CREATED) == 1
    assert kinds.count(OrderEvent.Kind.TASK_DONE) == 1


def test_a_task_cannot_go_to_a_client(rep):
    client_user = UserFactory(role=Role.CLIENT)
    with pytest.raises(TaskInputError):
        create_task(order=OrderFactory(by=rep), title="Do it", assignee=client_user, by=rep)
