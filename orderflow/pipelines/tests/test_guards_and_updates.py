"""Stage guards, side statuses, audiences, order updates, bulk moves, staff tasks and saved views."""

import pytest

from orderflow.accounts.roles import Role
from orderflow.pipelines import configure
from orderflow.pipelines.custom_fields import CustomFieldError
from orderflow.pipelines.models import FieldDefinition, OrderEvent, SavedView, StaffTask
from orderflow.pipelines.services import (
    SavedViewError,
    StageGuardError,
    TaskForbiddenError,
    TaskInputError,
    complete_task,
    create_task,
    leave_side_status,
    move_order,
    move_orders,
    save_view,
    update_order,
)
from tests.factories import OrderFactory, PipelineFactory, UserFactory

pytestmark = pytest.mark.django_db


def _stage(order, key):
    return order.pipeline.stages.get(key=key)


def test_required_field_blocks_the_move_until_it_is_filled(rep):
    order = OrderFactory(by=rep)
    FieldDefinition.objects.create(pipeline=order.pipeline, key="domain", label="Domain name")
    launched = _stage(order, "site-launched")
    launched.required_fields = ["domain"]
    launched.allowed_from = []  # this test is about the field alone, whatever the template says
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


def test_a_contractor_only_stage_is_set_by_neither_reps_nor_managers(rep):
    order = OrderFactory(by=rep)
    approved = _stage(order, "website-approved")
    approved.allowed_roles = [Role.CONTRACTOR]
    approved.save()

    for person in (rep, UserFactory(role=Role.MANAGER), UserFactory(role=Role.ADMIN)):
        with pytest.raises(StageGuardError) as refused:
            move_order(order, approved, by=person)
        assert refused.value.code == "stage_role"
        assert refused.value.message == "Only the order's contractor may move an order to “Website Approved”."
    order.refresh_from_db()
    assert order.stage.key == "order-received"
    assert not order.events.filter(kind=OrderEvent.Kind.STAGE_CHANGED).exists()

    move_order(order, approved, by=None)  # a rule is not bound by roles
    assert order.stage == approved


def test_listing_managers_next_to_the_contractor_lets_managers_in_but_not_reps(rep):
    order = OrderFactory(by=rep)
    approved = _stage(order, "website-approved")
    approved.allowed_roles = [Role.CONTRACTOR, Role.MANAGER]
    approved.save()

    with pytest.raises(StageGuardError) as refused:
        move_order(order, approved, by=rep)
    assert refused.value.message == (
        "Only manager or the order's contractor may move an order to “Website Approved”."
    )
    move_order(order, approved, by=UserFactory(role=Role.MANAGER))
    assert order.stage == approved


@pytest.mark.parametrize("roles", [[], [Role.MANAGER], [Role.ADMIN, Role.REP]], ids=str)
def test_a_contractor_cannot_set_a_stage_meant_for_staff(rep, roles):
    order = OrderFactory(by=rep)
    approved = _stage(order, "website-approved")
    approved.allowed_roles = roles
    approved.save()

    with pytest.raises(StageGuardError) as refused:
        move_order(order, approved, by=UserFactory(role=Role.CONTRACTOR))

    assert refused.value.code == "stage_role"
    assert refused.value.message == "Contractors may not move an order to “Website Approved”; staff set it."
    order.refresh_from_db()
    assert order.stage.key == "order-received"


def test_a_contractor_is_refused_a_contractor_stage_while_orders_are_not_assigned_to_contractors(rep):
    order = OrderFactory(by=rep)
    approved = _stage(order, "website-approved")
    approved.allowed_roles = [Role.CONTRACTOR, Role.MANAGER]
    approved.save()
    contractor = UserFactory(role=Role.CONTRACTOR)
    update_order(order, by=rep, watchers=[contractor])  # watching an order is not being assigned to it

    with pytest.raises(StageGuardError) as refused:
        move_order(order, approved, by=contractor)

    assert refused.value.code == "stage_contractor_not_assigned"
    assert "ask the order's manager to move it" in refused.value.message
    order.refresh_from_db()
    assert order.stage.key == "order-received"


def test_a_client_may_not_move_orders_whatever_the_stage_says(rep):
    order = OrderFactory(by=rep)
    approved = _stage(order, "website-approved")
    approved.allowed_roles = [Role.CONTRACTOR]
    approved.save()

    with pytest.raises(StageGuardError) as refused:
        move_order(order, approved, by=UserFactory(role=Role.CLIENT))

    assert refused.value.code == "stage_forbidden"


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


# --- who hears of a move ---------------------------------------------------------------------------


def test_a_move_is_told_to_whom_the_stage_says_unless_the_mover_chooses(rep):
    order = OrderFactory(by=rep)
    telling = _stage(order, "questionnaire-sent")
    quiet = _stage(order, "questionnaire-received")
    quiet.notify_client = False
    quiet.save()

    assert move_order(order, telling, by=rep).audience == OrderEvent.Audience.CLIENT
    assert move_order(order, quiet, by=rep).audience == OrderEvent.Audience.INTERNAL
    chosen = move_order(order, telling, by=rep, audience=OrderEvent.Audience.CONTRACTOR)
    assert chosen.audience == OrderEvent.Audience.CONTRACTOR
    hushed = move_order(order, quiet, by=rep, audience=OrderEvent.Audience.INTERNAL)
    assert hushed.audience == OrderEvent.Audience.INTERNAL


def test_an_unknown_audience_is_refused_before_anything_changes(rep):
    order = OrderFactory(by=rep)
    with pytest.raises(ValueError, match="audience"):
        move_order(order, _stage(order, "questionnaire-sent"), by=rep, audience="everyone")
    order.refresh_from_db()
    assert order.stage.key == "order-received"
    assert order.events.count() == 1


# --- the timeline stays readable ------------------------------------------------------------------


def test_stage_names_stay_on_the_timeline_after_the_stage_is_deleted(rep):
    admin = UserFactory(role=Role.ADMIN)
    order = OrderFactory(by=rep)
    received = order.stage
    sent = _stage(order, "questionnaire-sent")
    move_order(order, sent, by=rep)
    configure.delete_stage(received, move_orders_to=None, by=admin)
    configure.delete_stage(sent, move_orders_to=_stage(order, "questionnaire-received"), by=admin)

    created, moved, reorganised = order.events.order_by("created_at", "id")
    assert (created.to_stage, created.to_stage_name) == (None, "Order Received")
    assert (moved.from_stage, moved.to_stage) == (None, None)
    assert (moved.from_stage_name, moved.to_stage_name) == ("Order Received", "Questionnaire Sent")
    assert (reorganised.from_stage_name, reorganised.to_stage_name) == (
        "Questionnaire Sent",
        "Questionnaire Received",
    )


def test_a_renamed_stage_shows_its_new_name_on_the_timeline(rep):
    order = OrderFactory(by=rep)
    sent = _stage(order, "questionnaire-sent")
    move_order(order, sent, by=rep)
    sent.name = "Questions e-mailed"
    sent.save()
    moved = order.events.get(kind=OrderEvent.Kind.STAGE_CHANGED)
    assert moved.to_stage_name == "Questions e-mailed"


def test_update_keeps_the_labels_of_the_custom_fields_it_changed(rep):
    order = OrderFactory(by=rep)
    FieldDefinition.objects.create(pipeline=order.pipeline, key="pages", label="Pages", kind="number")
    FieldDefinition.objects.create(pipeline=order.pipeline, key="notes", label="Notes")
    update_order(order, by=rep, fields={"pages": "5"})
    event = order.events.get(kind=OrderEvent.Kind.UPDATED)
    assert event.data["labels"] == {"fields.pages": "Pages"}


# --- moving many orders ---------------------------------------------------------------------------


def test_a_bulk_move_moves_what_it_may_and_reports_each_refusal(rep):
    pipeline = PipelineFactory()
    ready, stuck, already = (OrderFactory(pipeline=pipeline, by=rep) for _ in range(3))
    target = pipeline.stages.get(key="questionnaire-received")
    target.allowed_from = ["questionnaire-sent"]
    target.save()
    sent = pipeline.stages.get(key="questionnaire-sent")
    move_order(ready, sent, by=rep)
    move_order(already, sent, by=rep)
    move_order(already, target, by=rep)

    result = move_orders([ready, stuck, already], target, by=rep, reason="Answers came in")

    assert [order.pk for order in result.moved] == [ready.pk]
    assert [reference for reference, _reason in result.refused] == [stuck.reference, already.reference]
    assert "can't be reached" in result.refused[0][1]
    assert "already in" in result.refused[1][1]
    ready.refresh_from_db()
    stuck.refresh_from_db()
    assert ready.stage == target
    assert stuck.stage.key == "order-received"
    assert ready.events.latest("id").message == "Answers came in"


# --- staff tasks ----------------------------------------------------------------------------------


def test_only_the_assignee_the_creator_or_a_manager_may_tick_a_task_off(rep):
    creator = UserFactory(role=Role.REP)
    colleague = UserFactory(role=Role.REP)
    manager = UserFactory(role=Role.MANAGER)
    order = OrderFactory(by=rep)
    tasks = [create_task(order=order, title=f"Call {n}", assignee=rep, by=creator) for n in range(4)]

    with pytest.raises(TaskForbiddenError, match="Rita Rep") as refused:
        complete_task(tasks[0], by=colleague)
    assert refused.value.code == "task_not_yours"
    assert StaffTask.objects.get(pk=tasks[0].pk).done_at is None
    assert not order.events.filter(kind=OrderEvent.Kind.TASK_DONE).exists()

    for task, person in zip(tasks, (rep, creator, manager, None), strict=True):
        assert complete_task(task, by=person).done_at is not None
    assert order.events.filter(kind=OrderEvent.Kind.TASK_DONE).count() == 4


def test_a_done_task_ticked_again_by_someone_else_is_still_refused(rep):
    task = create_task(order=OrderFactory(by=rep), title="Call", assignee=rep, by=rep)
    complete_task(task, by=rep)
    with pytest.raises(TaskForbiddenError):
        complete_task(task, by=UserFactory(role=Role.REP))


# --- saved views ----------------------------------------------------------------------------------


def test_saving_a_view_under_a_taken_name_replaces_its_filters(rep):
    first = save_view(owner=rep, name=" Overdue ", query="overdue=on", is_shared=False)
    again = save_view(owner=rep, name="Overdue", query="overdue=on&owner=me", is_shared=True)
    assert again.pk == first.pk
    assert (again.name, again.query, again.is_shared) == ("Overdue", "overdue=on&owner=me", True)
    other = save_view(owner=UserFactory(role=Role.REP), name="Overdue", query="", is_shared=False)
    assert other.pk != first.pk


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_a_view_without_a_usable_name_is_refused(rep, name):
    with pytest.raises(SavedViewError):
        save_view(owner=rep, name=name, query="overdue=on", is_shared=False)
    assert not SavedView.objects.exists()
