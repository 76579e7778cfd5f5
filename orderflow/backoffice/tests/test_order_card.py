"""The order card: who may open and change it, in-place editing, tasks, and a bounded query count."""

import datetime

import pytest
from django.urls import reverse

from orderflow.accounts.roles import Role
from orderflow.pipelines.models import FieldDefinition, StaffTask
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def test_a_client_login_cannot_open_the_staff_order_card(client, rep):
    order = OrderFactory(by=rep)
    client.force_login(UserFactory(role=Role.CLIENT))
    response = client.get(reverse("backoffice:order-detail", args=[order.pk]))
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, rep):
    order = OrderFactory(by=rep)
    response = client.get(reverse("backoffice:order-detail", args=[order.pk]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_editing_details_in_place_shows_the_new_values(rep_client, rep):
    order = OrderFactory(by=rep)
    FieldDefinition.objects.create(pipeline=order.pipeline, key="domain", label="Domain name")
    url = reverse("backoffice:order-edit", args=[order.pk])
    response = rep_client.post(
        url,
        {
            "title": "Bakery website",
            "owner": rep.pk,
            "value": "1200",
            "tags": "vip",
            "field__domain": "bakery.pt",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "bakery.pt" in page
    assert "1200" in page


def test_a_wrong_value_is_shown_next_to_its_field_and_nothing_changes(rep_client, rep):
    order = OrderFactory(by=rep, title="Original")
    FieldDefinition.objects.create(pipeline=order.pipeline, key="pages", label="Pages", kind="number")
    response = rep_client.post(
        reverse("backoffice:order-edit", args=[order.pk]),
        {"title": "Changed", "value": "-3", "field__pages": "many"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    order.refresh_from_db()
    assert order.title == "Original"


def test_a_refused_move_says_why_and_leaves_the_stage(rep_client, rep):
    order = OrderFactory(by=rep)
    response = rep_client.post(
        reverse("backoffice:order-move", args=[order.pk]), {"stage": order.stage.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "already in" in response.content.decode()


def test_tasks_added_on_the_card_appear_in_my_tasks(rep_client, rep):
    order = OrderFactory(by=rep)
    rep_client.post(
        reverse("backoffice:order-task-create", args=[order.pk]),
        {"title": "Call the client", "assignee": rep.pk},
        HTTP_HX_REQUEST="true",
    )
    page = rep_client.get(reverse("backoffice:my-tasks")).content.decode()
    assert "Call the client" in page
    task = StaffTask.objects.get()
    rep_client.post(reverse("backoffice:task-complete", args=[task.pk]))
    assert StaffTask.objects.get().done_at is not None


def test_the_order_card_query_count_does_not_grow_with_the_timeline(
    rep_client, rep, django_assert_max_num_queries
):
    order = OrderFactory(by=rep)
    url = reverse("backoffice:order-detail", args=[order.pk])
    rep_client.get(url)  # warm caches such as the session and permissions
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        rep_client.get(url)
    stages = list(order.pipeline.stages.filter(is_side=False).order_by("position"))
    from orderflow.pipelines.services import create_task, move_order, update_order

    # Every field filled in (stages may require them), so the order can walk the whole main path.
    update_order(order, by=rep, fields={"domain-name": "bakery.pt", "live-site": "https://bakery.pt"})
    for stage in stages[1:]:
        move_order(order, stage, by=rep)
        create_task(order=order, title=f"Check {stage.name}", assignee=rep, by=rep)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rep_client.get(url)


@pytest.mark.parametrize("language", ["en", "pt", "ru"])
def test_the_edit_form_shows_dates_the_browser_can_read_in_every_language(rep_client, rep, language):
    """A date picker takes only ISO values; a localised one (04.11.2026) showed empty and, saved, was lost."""
    order = OrderFactory(by=rep)
    launch = FieldDefinition.objects.create(
        pipeline=order.pipeline, key="launch", label="Launch", kind="date"
    )
    order.due_date = datetime.date(2026, 11, 4)
    order.fields = {launch.key: "2026-12-24"}
    order.save(update_fields=["due_date", "fields"])

    page = rep_client.get(
        reverse("backoffice:order-edit", args=[order.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()

    assert 'type="date" name="due_date" value="2026-11-04"' in page
    assert 'value="2026-12-24"' in page
