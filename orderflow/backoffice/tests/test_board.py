"""The pipeline board: columns and totals, a fixed query count, paging, and moves by drag or keyboard."""

import re
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from orderflow.accounts.roles import Role
from orderflow.backoffice.tests.bulk_orders import bulk_orders
from orderflow.pipelines.models import Order, OrderEvent, Stage, Tag
from orderflow.pipelines.selectors import BOARD_PAGE_SIZE
from tests.factories import OrderFactory, PipelineFactory, UserFactory

pytestmark = pytest.mark.django_db

# session, user, the user's and the groups' permissions, the pipeline, the stages with their counts
# and sums (one aggregate), the first cards of every column (one window query), their tags, and the
# pipelines for the switcher.
BOARD_QUERIES = 9


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def board_url(pipeline):
    return reverse("backoffice:board", args=[pipeline.slug])


def move_url(order):
    return reverse("backoffice:board-move", args=[order.pipeline.slug, order.pk])


def cards_in_column(page, stage):
    """The card ids rendered in `stage`'s column of a board page."""
    column = page.split(f'<ol class="board-cards" data-stage="{stage.pk}"', 1)[1].split("</ol>", 1)[0]
    return [int(found) for found in re.findall(r'<li class="board-card"[^>]*data-order="(\d+)"', column)]


def column_count(page, stage):
    head = page.split(f'data-column="{stage.pk}"', 1)[1]
    found = re.search(r"<span data-count>(\d+)</span>", head)
    assert found is not None
    return int(found[1])


@pytest.mark.parametrize("orders", [1, 200])
def test_the_board_takes_the_same_queries_for_one_order_or_two_hundred(
    rep_client, rep, web_pipeline, django_assert_num_queries, orders
):
    other = UserFactory.create(role=Role.MANAGER)
    tags = [Tag.objects.create(name="urgent"), Tag.objects.create(name="shop")]
    bulk_orders(web_pipeline, orders, owners=[rep, other, None], tags=tags, clients=40)
    with django_assert_num_queries(BOARD_QUERIES):
        response = rep_client.get(board_url(web_pipeline))
    assert response.status_code == 200
    assert "Bulk order 0" in response.content.decode()


def test_columns_come_in_stage_order_with_side_statuses_last_and_set_apart(rep_client, web_pipeline):
    page = rep_client.get(board_url(web_pipeline)).content.decode()
    stages = list(web_pipeline.stages.order_by("is_side", "position", "id"))
    positions = [page.index(f'data-column="{stage.pk}"') for stage in stages]
    assert positions == sorted(positions)
    side_group = page.index('class="board-group side"')
    assert all(page.index(f'data-column="{s.pk}"') > side_group for s in stages if s.is_side)
    assert all(page.index(f'data-column="{s.pk}"') < side_group for s in stages if not s.is_side)


def test_a_column_shows_its_count_and_the_sum_of_order_values_in_the_pipeline_currency(
    rep_client, web_pipeline
):
    first = web_pipeline.stages.get(key="order-received")
    orders = bulk_orders(web_pipeline, 3, value=Decimal("1250.50"))
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(stage=first)
    Order.objects.filter(pk=orders[0].pk).update(value=None)
    page = rep_client.get(board_url(web_pipeline)).content.decode()
    assert column_count(page, first) == 3
    head = page.split(f'data-column="{first.pk}"', 1)[1].split("</header>", 1)[0]
    assert "2,501 EUR" in head


def test_a_card_shows_reference_title_client_owner_initials_due_date_and_tags(rep_client, rep, web_pipeline):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep, title="Bakery website")
    order.tags.add(Tag.objects.create(name="wordpress"))
    Order.objects.filter(pk=order.pk).update(due_date="2020-01-31")
    page = rep_client.get(board_url(web_pipeline)).content.decode()
    card = page.split(f'data-order="{order.pk}"', 1)[1].split("</li>", 1)[0]
    assert order.reference in card
    assert "Bakery website" in card
    assert order.client.name in card
    assert ">RR<" in card  # Rita Rep
    assert 'class="due late"' in card
    assert "31 Jan" in card
    assert "wordpress" in card


def test_a_due_date_in_the_future_or_of_a_finished_order_is_not_red(rep_client, rep, web_pipeline):
    upcoming = OrderFactory.create(pipeline=web_pipeline, by=rep)
    launched = OrderFactory.create(pipeline=web_pipeline, by=rep, stage="site-launched")
    Order.objects.filter(pk=upcoming.pk).update(due_date="2999-01-01")
    Order.objects.filter(pk=launched.pk).update(due_date="2020-01-01")
    page = rep_client.get(board_url(web_pipeline)).content.decode()
    assert "due late" not in page


def test_the_board_with_ten_thousand_orders_renders_thirty_cards_per_column_and_true_counts(
    rep_client, rep, web_pipeline, django_assert_max_num_queries
):
    bulk_orders(web_pipeline, 10_000, owners=[rep, None], tags=[Tag.objects.create(name="vip")], clients=200)
    started = time.perf_counter()
    with django_assert_max_num_queries(BOARD_QUERIES):
        response = rep_client.get(board_url(web_pipeline))
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    page = response.content.decode()
    stages = list(web_pipeline.stages.all())
    counts = {stage.pk: column_count(page, stage) for stage in stages}
    assert sum(counts.values()) == 10_000
    for stage in stages:
        assert counts[stage.pk] == Order.objects.filter(stage=stage).count()
        assert len(cards_in_column(page, stage)) == min(BOARD_PAGE_SIZE, counts[stage.pk])
    assert page.count('class="board-more"') == len(stages)
    print(f"\nboard with 10 000 orders: {elapsed * 1000:.0f} ms, {len(response.content) // 1024} KiB")
    assert elapsed < 10  # generous: CI machines are small and busy; the query count is the real guard


def test_load_more_pages_through_a_column_newest_first_without_repeats(rep_client, web_pipeline):
    stage = web_pipeline.stages.get(key="order-received")
    orders = bulk_orders(web_pipeline, 70)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(stage=stage)
    newest_first = list(
        Order.objects.filter(stage=stage).order_by("-stage_entered_at", "-id").values_list("pk", flat=True)
    )
    page = rep_client.get(board_url(web_pipeline)).content.decode()
    seen = cards_in_column(page, stage)
    assert seen == newest_first[:BOARD_PAGE_SIZE]
    while True:
        more = re.search(r'hx-get="([^"]+/board/stages/\d+/\?after=[^"]+)"', page)
        if more is None:
            break
        page = rep_client.get(more[1].replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
        seen += [int(pk) for pk in re.findall(r'data-order="(\d+)"', page)]
    assert seen == newest_first


def test_load_more_takes_the_same_queries_for_a_short_or_a_long_column(
    rep_client, web_pipeline, django_assert_num_queries
):
    stage = web_pipeline.stages.get(key="order-received")
    url = reverse("backoffice:board-column", args=[web_pipeline.slug, stage.pk])
    Order.objects.filter(pk__in=[o.pk for o in bulk_orders(web_pipeline, 200)]).update(stage=stage)
    # session, user, two permission reads, the stage, one page of cards, their tags
    with django_assert_num_queries(7):
        response = rep_client.get(url, HTTP_HX_REQUEST="true")
    assert response.content.decode().count('class="board-card"') == BOARD_PAGE_SIZE


def test_dragging_a_card_moves_the_order_and_answers_the_card_and_new_counts(rep_client, rep, web_pipeline):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    target = web_pipeline.stages.get(key="questionnaire-sent")
    response = rep_client.post(move_url(order), {"stage": target.pk}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    data = response.json()
    order.refresh_from_db()
    assert order.stage == target
    assert data["ok"] is True
    assert data["stage"] == target.pk
    assert f'data-order="{order.pk}"' in data["card"]
    counts = {column["stage"]: column["count"] for column in data["columns"]}
    assert counts[target.pk] == 1
    assert counts[web_pipeline.stages.get(key="order-received").pk] == 0
    assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.STAGE_CHANGED, actor=rep).exists()


def test_a_refused_drag_answers_422_with_the_reason_and_changes_nothing(rep_client, rep, web_pipeline):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    target = web_pipeline.stages.get(key="website-approved")
    Stage.objects.filter(pk=target.pk).update(allowed_from=["revisions-in-production"])
    response = rep_client.post(move_url(order), {"stage": target.pk}, HTTP_ACCEPT="application/json")
    assert response.status_code == 422
    data = response.json()
    assert data["ok"] is False
    assert data["code"] == "stage_not_from_here"
    assert "can't be reached from" in data["reason"]
    order.refresh_from_db()
    assert order.stage.key == "order-received"
    assert not OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.STAGE_CHANGED).exists()


def test_dropping_a_card_back_on_its_own_stage_or_on_another_pipelines_stage_is_refused(
    rep_client, rep, web_pipeline
):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    elsewhere = PipelineFactory.create().stages.first()
    assert elsewhere is not None
    same = rep_client.post(move_url(order), {"stage": order.stage_id}, HTTP_ACCEPT="application/json")
    other = rep_client.post(move_url(order), {"stage": elsewhere.pk}, HTTP_ACCEPT="application/json")
    missing = rep_client.post(move_url(order), {"stage": "nonsense"}, HTTP_ACCEPT="application/json")
    assert [same.status_code, other.status_code, missing.status_code] == [422, 422, 422]
    assert same.json()["code"] == "stage_unchanged"
    assert other.json()["code"] == "stage_other_pipeline"
    assert missing.json()["code"] == "stage_missing"


def test_a_card_can_only_be_moved_on_its_own_pipelines_board(rep_client, rep, web_pipeline):
    other_pipeline = PipelineFactory.create()
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    url = reverse("backoffice:board-move", args=[other_pipeline.slug, order.pk])
    target = web_pipeline.stages.get(key="questionnaire-sent")
    response = rep_client.post(url, {"stage": target.pk}, HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"


def test_someone_without_the_move_permission_cannot_move_cards(client, rep, web_pipeline):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    client.force_login(UserFactory.create(role=Role.CLIENT))
    target = web_pipeline.stages.get(key="questionnaire-sent")
    response = client.post(move_url(order), {"stage": target.pk}, HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert client.get(board_url(web_pipeline)).status_code == 403
    order.refresh_from_db()
    assert order.stage.key == "order-received"


def test_the_move_form_without_javascript_redirects_back_to_the_board_with_a_message(
    rep_client, rep, web_pipeline
):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    target = web_pipeline.stages.get(key="questionnaire-sent")
    response = rep_client.post(move_url(order), {"stage": target.pk}, follow=True)
    assert response.redirect_chain[-1][0] == board_url(web_pipeline)
    assert f"{order.reference} moved to “Questionnaire Sent”." in response.content.decode()


def test_every_card_offers_move_to_for_the_keyboard_and_the_board_loads_sortable(
    rep_client, rep, web_pipeline
):
    OrderFactory.create(pipeline=web_pipeline, by=rep)
    page = rep_client.get(board_url(web_pipeline)).content.decode()
    assert 'class="board-card" tabindex="0"' in page
    assert "data-move-open" in page
    assert 'id="move-dialog"' in page
    assert "vendor/Sortable.min.js" in page
    assert "orderflow/board.js" in page
    assert 'id="board-alerts" class="board-alerts" role="alert"' in page


def test_an_empty_pipeline_says_so_and_how_to_start(rep_client, web_pipeline):
    page = rep_client.get(board_url(web_pipeline)).content.decode()
    assert "No orders in this pipeline yet" in page


def test_the_board_link_opens_the_first_active_pipeline(rep_client, web_pipeline):
    response = rep_client.get(reverse("backoffice:board-home"))
    assert response.status_code == 302
    assert response["Location"] == board_url(web_pipeline)


def test_without_any_pipeline_the_board_explains_what_it_needs(rep_client):
    response = rep_client.get(reverse("backoffice:board-home"))
    assert response.status_code == 200
    assert "No pipeline yet" in response.content.decode()
