"""Staff pages of automation: rules listed with few or many rows in constant queries, bad rules refused, controls."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.automation.models import Reminder, ReminderSequence, Rule, ScheduledJob
from orderflow.automation.services import save_rule
from orderflow.automation.tests.conftest import CaptureOnCommit
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import Order, OrderEvent, Pipeline
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
        reverse("automation:rule-create-text"), {"pipeline": web_pipeline.pk, "definition": definition}
    )

    assert response.status_code == 422
    assert "actions[0].stage" in response.text
    assert "&#x27;launch&#x27; is not a stage of “Website project”" in response.text
    assert not Rule.objects.exists()


def test_a_rule_is_created_and_edited_as_yaml(admin_client: Client, web_pipeline: Pipeline) -> None:
    rule = _rule(web_pipeline, 1)
    page = admin_client.get(reverse("automation:rule-edit-text", args=[rule.pk]))
    assert "kind: stage.entered" in page.text

    response = admin_client.post(
        reverse("automation:rule-edit-text", args=[rule.pk]),
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


def _reminder_on(order: Order, capture: CaptureOnCommit, request_id: int = 3) -> Reminder:
    with capture(execute=True):
        record_event(order, OrderEvent.Kind.REQUEST_SENT, by=None, data={"request": request_id})
    return Reminder.objects.filter(order=order).latest("id")


def _section_url_on_the_card(client: Client, order: Order) -> str:
    """The card loads its reminders section by htmx: the URL as the card's markup names it."""
    card = client.get(reverse("backoffice:order-detail", args=[order.pk]))
    assert card.status_code == 200
    found = re.search(r'id="order-reminders"[^>]*hx-get="([^"]+)"', card.text)
    assert found, "the order card has no reminders section"
    return found.group(1)


def _control_urls(section: str) -> dict[str, str]:
    """The control forms in the section: {action: URL}."""
    return {
        action: url
        for url, action in re.findall(
            r'<form method="post" action="(/automation/order-reminders/\d+/([a-z-]+)/)"', section
        )
    }


def test_staff_pause_resume_skip_and_send_now_through_the_order_card(
    client: Client,
    rep: User,
    web_pipeline: Pipeline,
    client_contact: Contact,
    questionnaire_reminders: ReminderSequence,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    capture = django_capture_on_commit_callbacks
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, owner=rep)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC), tick=False):
        reminder = _reminder_on(order, capture)
    client.login(email=rep.email, password=TEST_PASSWORD)
    htmx = {"HX-Request": "true"}

    section = client.get(_section_url_on_the_card(client, order)).text
    assert "Questionnaire" in section
    assert "reminder 1 of 4, Mon 9 Mar 09:00" in section
    assert set(_control_urls(section)) == {"send-now", "skip", "pause"}

    with time_machine.travel(datetime.datetime(2026, 3, 3, 12, 0, tzinfo=datetime.UTC), tick=False):
        paused = client.post(_control_urls(section)["pause"], headers=htmx)
        assert paused.status_code == 200
        assert "Paused" in paused.text
        assert set(_control_urls(paused.text)) == {"resume"}
        reminder.refresh_from_db()
        assert reminder.status == Reminder.Status.PAUSED
        assert not ScheduledJob.objects.filter(status=ScheduledJob.Status.PENDING).exists()

        resumed = client.post(_control_urls(paused.text)["resume"], headers=htmx)
        assert "reminder 1 of 4, Mon 9 Mar 09:00" in resumed.text

        skipped = client.post(_control_urls(resumed.text)["skip"], headers=htmx)
        assert "reminder 2 of 4, Mon 16 Mar 09:00" in skipped.text
        # The card's "Next" comes along, swapped out of band.
        assert re.search(
            r'<div id="order-next" hx-swap-oob="true">.*reminder 2 of 4, Mon 16 Mar 09:00', skipped.text, re.S
        )

        with capture(execute=True):
            sent = client.post(_control_urls(skipped.text)["send-now"], headers=htmx)
            assert "reminder 2 of 4, Tue 3 Mar 12:00" in sent.text  # due now: a worker sends it
        after = client.get(reverse("automation:order-reminders", args=[order.pk]))
        assert "reminder 3 of 4, Mon 23 Mar 09:00" in after.text
    [event] = order.events.filter(kind=OrderEvent.Kind.REMINDER_SENT)
    assert event.data["step"] == 2
    assert OutboxMessage.objects.filter(order=order, idempotency_key__startswith="reminder:").count() == 1


def test_a_refused_control_explains_itself_in_place_and_without_javascript_on_the_card(
    client: Client,
    rep: User,
    web_pipeline: Pipeline,
    client_contact: Contact,
    questionnaire_reminders: ReminderSequence,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, owner=rep)
    reminder = _reminder_on(order, django_capture_on_commit_callbacks)
    client.login(email=rep.email, password=TEST_PASSWORD)
    section = client.get(_section_url_on_the_card(client, order)).text
    pause = _control_urls(section)["pause"]
    client.post(pause, HTTP_HX_REQUEST="true")

    twice = client.post(pause, HTTP_HX_REQUEST="true")  # a double click, or a second tab

    assert twice.status_code == 422
    assert "Only a running reminder can be paused." in twice.text
    assert "Resume" in twice.text
    plain = client.post(pause, follow=True)  # no JavaScript: back to the card with the message
    assert plain.redirect_chain[-1][0] == reverse("backoffice:order-detail", args=[order.pk])
    assert "Only a running reminder can be paused." in plain.text
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PAUSED
    assert (
        client.post(reverse("automation:reminder-control", args=[reminder.pk, "explode"])).status_code == 404
    )


def test_people_without_the_right_cannot_see_or_use_the_controls(
    client: Client,
    rep: User,
    web_pipeline: Pipeline,
    client_contact: Contact,
    questionnaire_reminders: ReminderSequence,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, owner=rep)
    reminder = _reminder_on(order, django_capture_on_commit_callbacks)
    section_url = reverse("automation:order-reminders", args=[order.pk])
    pause_url = reverse("automation:reminder-control", args=[reminder.pk, "pause"])

    assert client.post(pause_url).status_code == 302  # anonymous: to the login page
    for role in (Role.CLIENT, Role.CONTRACTOR):
        outsider = UserFactory(role=role)
        client.force_login(outsider)
        assert client.get(section_url).status_code == 403
        assert client.post(pause_url).status_code == 403
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.ACTIVE
    client.force_login(rep)
    assert client.get(reverse("automation:order-reminders", args=[order.pk + 1000])).status_code == 404


@pytest.mark.parametrize("count", [1, 10])
def test_the_reminders_section_asks_the_database_the_same_number_of_times_for_few_or_many(
    client: Client,
    rep: User,
    web_pipeline: Pipeline,
    client_contact: Contact,
    questionnaire_reminders: ReminderSequence,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    django_assert_max_num_queries: Any,
    count: int,
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, owner=rep)
    for request_id in range(count):
        _reminder_on(order, django_capture_on_commit_callbacks, request_id=request_id)
    client.force_login(rep)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("automation:order-reminders", args=[order.pk]))

    assert response.text.count('data-testid="reminder"') == count


def test_an_order_without_reminders_says_when_they_start(
    client: Client, rep: User, web_pipeline: Pipeline, client_contact: Contact
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=client_contact, owner=rep)
    client.force_login(rep)

    response = client.get(reverse("automation:order-reminders", args=[order.pk]))

    assert "No reminders on this order." in response.text


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
