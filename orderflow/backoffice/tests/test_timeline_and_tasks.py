"""The order card's timeline as people read it, and who may tick off tasks (card and "My tasks")."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orderflow.accounts.roles import Role
from orderflow.backoffice.views import MY_TASKS_PAGE_SIZE
from orderflow.pipelines import configure
from orderflow.pipelines.models import StaffTask
from orderflow.pipelines.services import create_task, move_order, update_order
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def _timeline(response) -> str:
    page = response.content.decode()
    start = page.index('data-testid="timeline"')
    return re.sub(r"\s+", " ", page[start : page.index("</ol>", start)])


def test_updated_entries_name_fields_as_people_know_them(rep_client, rep):
    order = OrderFactory(by=rep)  # the web-design fields: "Domain name" (text), "Budget" (money) …
    update_order(
        order,
        by=rep,
        due_date=datetime.date(2030, 5, 17),
        fields={"domain-name": "bakery.pt", "budget": "1500"},
        tags=["vip"],
    )

    timeline = _timeline(rep_client.get(reverse("backoffice:order-detail", args=[order.pk])))

    assert "Due date: — → 2030-05-17" in timeline
    assert "Domain name: — → bakery.pt" in timeline
    assert "Budget: — → 1500.00 EUR" in timeline
    assert "Tags: — → vip" in timeline
    assert "due_date" not in timeline
    assert "fields." not in timeline


def test_a_deleted_field_keeps_its_label_on_the_timeline(rep_client, rep):
    admin = UserFactory(role=Role.ADMIN)
    order = OrderFactory(by=rep)
    field = order.pipeline.fields.get(key="domain-name")
    update_order(order, by=rep, fields={"domain-name": "bakery.pt"})
    configure.delete_field(field, by=admin)

    timeline = _timeline(rep_client.get(reverse("backoffice:order-detail", args=[order.pk])))

    assert "Domain name: — → bakery.pt" in timeline
    assert "domain-name" not in timeline


def test_built_in_field_names_are_shown_in_the_viewers_language(rep_client, rep):
    order = OrderFactory(by=rep)
    update_order(order, by=rep, due_date=datetime.date(2030, 5, 17), tags=["vip"])

    response = rep_client.get(reverse("backoffice:order-detail", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="pt")

    timeline = _timeline(response)
    assert "Prazo: — → 2030-05-17" in timeline
    assert "Etiquetas: — → vip" in timeline


def test_money_on_the_timeline_reads_as_in_the_details(rep_client, rep):
    order = OrderFactory(by=rep)
    update_order(order, by=rep, value=Decimal("2900"), fields={"budget": "1500"})

    page = rep_client.get(reverse("backoffice:order-detail", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="ru")

    html = page.content.decode()
    details = html[html.index('id="facts-title"') : html.index("</dl>", html.index('id="facts-title"'))]
    assert "2900,00 EUR" in details
    assert "1500,00 EUR" in details
    timeline = _timeline(page)
    assert "— → 2900,00 EUR" in timeline
    assert "— → 1500,00 EUR" in timeline


def test_deleting_stages_keeps_their_names_on_the_timeline(rep_client, rep):
    admin = UserFactory(role=Role.ADMIN)
    order = OrderFactory(by=rep)
    received = order.stage
    sent = order.pipeline.stages.get(key="questionnaire-sent")
    move_order(order, sent, by=rep)
    configure.delete_stage(received, move_orders_to=None, by=admin)
    configure.delete_stage(sent, move_orders_to=order.pipeline.stages.get(key="on-hold"), by=admin)

    timeline = _timeline(rep_client.get(reverse("backoffice:order-detail", args=[order.pk])))

    assert "in Order Received" in timeline
    assert "Order Received → Questionnaire Sent" in timeline
    assert "Questionnaire Sent → On Hold" in timeline
    assert "— →" not in timeline


# --- tasks ----------------------------------------------------------------------------------------


def test_a_colleague_cannot_tick_off_someone_elses_task(client, rep):
    colleague = UserFactory(role=Role.REP, full_name="Carl Colleague")
    order = OrderFactory(by=rep)
    task = create_task(order=order, title="Call the client", assignee=rep, by=rep)
    client.force_login(colleague)

    card = client.get(reverse("backoffice:order-detail", args=[order.pk])).content.decode()
    assert "Call the client" in card
    assert reverse("backoffice:task-complete", args=[task.pk]) not in card

    response = client.post(reverse("backoffice:task-complete", args=[task.pk]), follow=True)

    assert StaffTask.objects.get(pk=task.pk).done_at is None
    assert "Only Rita Rep, who created the task, or a manager may mark “Call the client” done." in (
        response.content.decode()
    )


def test_a_manager_may_tick_off_anyones_task_from_the_card(client, rep):
    manager = UserFactory(role=Role.MANAGER)
    order = OrderFactory(by=rep)
    task = create_task(order=order, title="Call the client", assignee=rep, by=rep)
    client.force_login(manager)
    card_url = reverse("backoffice:order-detail", args=[order.pk])

    assert reverse("backoffice:task-complete", args=[task.pk]) in client.get(card_url).content.decode()
    response = client.post(reverse("backoffice:task-complete", args=[task.pk]), {"next": card_url})

    assert response.status_code == 302
    assert response["Location"] == card_url
    assert StaffTask.objects.get(pk=task.pk).done_at is not None


def _give_tasks(user, count: int) -> None:
    order = OrderFactory(by=user)
    now = timezone.now()
    StaffTask.objects.bulk_create(
        [
            StaffTask(
                order=order,
                title=f"Task {n:03d}",
                assignee=user,
                created_by=user,
                due_at=now + datetime.timedelta(hours=n),
            )
            for n in range(count)
        ]
    )


@pytest.mark.parametrize("count", [1, MY_TASKS_PAGE_SIZE * 3])
def test_my_tasks_takes_the_same_queries_for_one_task_or_many(
    rep_client, rep, django_assert_num_queries, count
):
    _give_tasks(rep, count)
    url = reverse("backoffice:my-tasks")
    rep_client.get(url)  # warm the session and permission caches
    # session, user, two for permissions, the page's count, open tasks with orders, recently done
    with django_assert_num_queries(7):
        response = rep_client.get(url)
    page = response.content.decode()
    assert page.count("Mark “Task") == min(count, MY_TASKS_PAGE_SIZE)


def test_my_tasks_shows_a_page_at_a_time_soonest_due_first(rep_client, rep):
    _give_tasks(rep, MY_TASKS_PAGE_SIZE + 3)
    url = reverse("backoffice:my-tasks")

    first = rep_client.get(url).content.decode()
    second = rep_client.get(url, {"page": 2}).content.decode()

    assert "Task 000" in first
    assert f"Task {MY_TASKS_PAGE_SIZE - 1:03d}" in first
    assert f"Task {MY_TASKS_PAGE_SIZE:03d}" not in first
    assert second.count("Mark “Task") == 3
    assert f"{MY_TASKS_PAGE_SIZE + 3} open tasks" in first
