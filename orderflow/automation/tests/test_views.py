"""Staff pages of automation: rules listed with few or many rows in constant queries, bad rules refused, controls."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.automation.models import Reminder, ReminderSequence, Rule, ScheduledJob
from orderflow.automation.services import save_rule
from orderflow.automation.tests.conftest import CaptureOnCommit
from orderflow.pipelines.models import OrderEvent, Pipeline
from orderflow.pipelines.services import record_event
from tests.factories import TEST_PASSWORD, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    client.login(email=admin.email, password=TEST_PASSWORD)
    return client


def _rule(pipeline: Pipeline, n: int) -> Rule:
    return save_rule(
        pipeline,
        {
            "key": f"tag-{n}",
            "name": f"Tag {n}",
            "trigger": {"kind": "stage.entered", "stage": "questionnaire-sent"},
            "actions": [{"type": "add_tag", "tag": f"t{n}"}],
        },
    )


@pytest.mark.parametrize("count", [1, 12])
def test_the_automation_page_lists_rules_in_the_same_number_of_queries(
    admin_client: Client, web_pipeline: Pipeline, count: int, django_assert_max_num_queries: object
) -> None:
    for n in range(count):
        _rule(web_pipeline, n)

    with django_assert_max_num_queries(12):  # type: ignore[operator]
        response = admin_client.get(reverse("automation:home"))

    assert response.status_code == 200
    assert f"Tag {count - 1}" in response.text


def test_a_rule_naming_a_missing_stage_is_refused_with_a_clear_message(
    admin_client: Client, web_pipeline: Pipeline
) -> None:
    definition = (
        "key: x\nname: X\ntrigger:\n  kind: order.created\nactions:\n  - type: move\n    stage: launch\n"
    )

    response = admin_client.post(
        reverse("automation:rule-create"), {"pipeline": web_pipeline.pk, "definition": definition}
    )

    assert response.status_code == 422
    assert "actions[0].stage" in response.text
    assert "&#x27;launch&#x27; is not a stage of “Website project”" in response.text
    assert not Rule.objects.exists()


def test_a_rule_is_created_and_edited_as_yaml(admin_client: Client, web_pipeline: Pipeline) -> None:
    rule = _rule(web_pipeline, 1)
    page = admin_client.get(reverse("automation:rule-edit", args=[rule.pk]))
    assert "kind: stage.entered" in page.text

    response = admin_client.post(
        reverse("automation:rule-edit", args=[rule.pk]),
        {
            "definition": "key: tag-1\nname: Renamed\nactive: false\ntrigger:\n  kind: order.created\n"
            "actions:\n  - type: add_tag\n    tag: hello\n"
        },
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.is_active, rule.trigger) == ("Renamed", False, {"kind": "order.created"})


def test_a_rep_sees_the_log_but_cannot_edit_rules(client: Client, rep: User, web_pipeline: Pipeline) -> None:
    rule = _rule(web_pipeline, 1)
    client.login(email=rep.email, password=TEST_PASSWORD)

    assert client.get(reverse("automation:run-log")).status_code == 200
    assert client.get(reverse("automation:rule-edit", args=[rule.pk])).status_code == 403


def test_staff_pause_a_reminder_from_the_order_card(
    client: Client,
    rep: User,
    web_pipeline: Pipeline,
    client_contact: Contact,
    questionnaire_reminders: ReminderSequence,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    with django_capture_on_commit_callbacks(execute=True):
        record_event(order, OrderEvent.Kind.REQUEST_SENT, by=None, data={"request": 3})
    reminder = Reminder.objects.get()
    client.login(email=rep.email, password=TEST_PASSWORD)

    response = client.post(reverse("automation:reminder-control", args=[reminder.pk, "pause"]))

    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PAUSED
    assert not ScheduledJob.objects.filter(status=ScheduledJob.Status.PENDING).exists()


def test_a_failed_job_is_shown_and_can_be_tried_again(
    admin_client: Client, web_pipeline: Pipeline, client_contact: Contact
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=client_contact)
    job = ScheduledJob.objects.create(
        idempotency_key="x",
        kind=ScheduledJob.Kind.RULE_ACTION,
        status=ScheduledJob.Status.FAILED,
        due_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        order=order,
        attempts=6,
        last_error="OSError: webhook answered HTTP 500",
        payload={"run": 0, "action": 0},
    )
    page = admin_client.get(reverse("automation:home"))
    assert "OSError: webhook answered HTTP 500" in page.text

    with time_machine.travel(datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC), tick=False):
        admin_client.post(reverse("automation:job-retry", args=[job.pk]))

    job.refresh_from_db()
    assert (job.status, job.attempts) == (ScheduledJob.Status.PENDING, 0)
