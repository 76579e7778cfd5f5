"""The order list: filters and search, a fixed query count, paging, saved views and the bulk move."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from orderflow.accounts.roles import Role
from orderflow.backoffice.order_lists import PAGE_SIZE
from orderflow.backoffice.tests.bulk_orders import bulk_orders
from orderflow.pipelines.models import Order, OrderEvent, SavedView, Stage, Tag
from tests.factories import ContactFactory, OrderFactory, PipelineFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/orders/"

# session, user, the user's and the groups' permissions, the four filter choices (pipelines,
# stages, owners, tags), the page's count, the page, its tags, and the saved views.
LIST_QUERIES = 12


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def listed(response):
    """References of the orders on a list page, in order."""
    return re.findall(
        r'<td class="mono cell-number"><a href="[^"]+">([A-Z0-9]+-\d+)</a>', response.content.decode()
    )


def test_the_list_lives_at_orders(rep_client):
    assert reverse("backoffice:order-list") == LIST_URL


@pytest.mark.parametrize("orders", [1, 200])
def test_the_list_takes_the_same_queries_for_one_order_or_two_hundred(
    rep_client, rep, web_pipeline, django_assert_num_queries, orders
):
    tags = [Tag.objects.create(name="urgent"), Tag.objects.create(name="shop")]
    bulk_orders(web_pipeline, orders, owners=[rep, UserFactory.create(role=Role.MANAGER), None], tags=tags)
    with django_assert_num_queries(LIST_QUERIES):
        response = rep_client.get(LIST_URL)
    assert len(listed(response)) == min(orders, PAGE_SIZE)


@pytest.mark.parametrize("orders", [1, 200])
def test_a_filtered_list_takes_the_same_queries_for_one_order_or_two_hundred(
    rep_client, rep, web_pipeline, django_assert_num_queries, orders
):
    tags = [Tag.objects.create(name="urgent")]
    bulk_orders(web_pipeline, orders, owners=[rep], tags=tags)
    stage = web_pipeline.stages.first()
    assert stage is not None
    query = f"?q=bulk&pipeline={web_pipeline.pk}&stage={stage.pk}&owner=me&tag=urgent&overdue=on&sort=due"
    # one more: the stages with a time limit, for "overdue"
    with django_assert_num_queries(LIST_QUERIES + 1):
        response = rep_client.get(LIST_URL + query)
    assert response.status_code == 200


def test_the_list_shows_fifty_orders_a_page(rep_client, web_pipeline):
    bulk_orders(web_pipeline, PAGE_SIZE + 5)
    first = rep_client.get(LIST_URL)
    second = rep_client.get(LIST_URL, {"page": 2})
    assert len(listed(first)) == PAGE_SIZE
    assert len(listed(second)) == 5
    assert not set(listed(first)) & set(listed(second))


def test_search_finds_an_order_by_its_reference_or_its_bare_number(rep_client, rep, web_pipeline):
    orders = [OrderFactory.create(pipeline=web_pipeline, by=rep, title=f"Site {word}") for word in "abcdef"]
    wanted = orders[3]
    assert listed(rep_client.get(LIST_URL, {"q": wanted.reference})) == [wanted.reference]
    assert listed(rep_client.get(LIST_URL, {"q": wanted.reference.lower()})) == [wanted.reference]
    # a bare number also matches titles, clients and fields containing it, but the order itself comes first
    assert listed(rep_client.get(LIST_URL, {"q": str(wanted.number)}))[0] == wanted.reference


def test_a_reference_with_another_pipelines_prefix_does_not_match(rep_client, rep, web_pipeline):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep, title="Bakery")
    other = PipelineFactory.create()
    OrderFactory.create(pipeline=other, by=rep, title="Florist")
    assert listed(rep_client.get(LIST_URL, {"q": order.reference})) == [order.reference]
    assert listed(rep_client.get(LIST_URL, {"q": f"{other.number_prefix}-{order.number:05d}"})) != [
        order.reference
    ]


def test_search_finds_orders_by_client_name_or_email_and_by_title(rep_client, rep, web_pipeline):
    ana = ContactFactory.create(name="Ana Ferreira", email="ana@padaria.pt")
    hers = OrderFactory.create(pipeline=web_pipeline, by=rep, client=ana, title="Shop")
    other = OrderFactory.create(pipeline=web_pipeline, by=rep, title="Portfolio for a painter")
    assert listed(rep_client.get(LIST_URL, {"q": "ferreira"})) == [hers.reference]
    assert listed(rep_client.get(LIST_URL, {"q": "PADARIA.pt"})) == [hers.reference]
    assert listed(rep_client.get(LIST_URL, {"q": "painter"})) == [other.reference]


def test_search_finds_custom_field_values_but_not_field_keys(rep_client, rep, web_pipeline):
    bakery = OrderFactory.create(pipeline=web_pipeline, by=rep, title="One")
    cyrillic = OrderFactory.create(pipeline=web_pipeline, by=rep, title="Two")
    OrderFactory.create(pipeline=web_pipeline, by=rep, title="Three")
    Order.objects.filter(pk=bakery.pk).update(
        fields={"domain-name": "padaria-do-mar.pt", "budget": {"amount": "1200.00", "currency": "EUR"}}
    )
    Order.objects.filter(pk=cyrillic.pk).update(fields={"domain-name": "ракета.рф"})
    assert listed(rep_client.get(LIST_URL, {"q": "DO-MAR"})) == [bakery.reference]
    assert listed(rep_client.get(LIST_URL, {"q": "1200.00"})) == [bakery.reference]
    assert listed(rep_client.get(LIST_URL, {"q": "ракета"})) == [cyrillic.reference]
    assert listed(rep_client.get(LIST_URL, {"q": "domain-name"})) == []


def test_search_treats_like_wildcards_as_plain_characters(rep_client, rep, web_pipeline):
    OrderFactory.create(pipeline=web_pipeline, by=rep, title="Anything")
    assert listed(rep_client.get(LIST_URL, {"q": "%"})) == []
    assert listed(rep_client.get(LIST_URL, {"q": "_"})) == []


def test_overdue_means_past_due_or_too_long_in_the_stage_and_never_finished(rep_client, rep, web_pipeline):
    today = timezone.localdate()
    past_due = OrderFactory.create(pipeline=web_pipeline, by=rep, title="Past due")
    Order.objects.filter(pk=past_due.pk).update(due_date=today - datetime.timedelta(days=1))
    due_later = OrderFactory.create(pipeline=web_pipeline, by=rep, title="Due later")
    Order.objects.filter(pk=due_later.pk).update(due_date=today + datetime.timedelta(days=3))
    lingering = OrderFactory.create(
        pipeline=web_pipeline, by=rep, title="Lingering", stage="questionnaire-sent"
    )
    Stage.objects.filter(pk=lingering.stage_id).update(max_days=7)
    Order.objects.filter(pk=lingering.pk).update(stage_entered_at=timezone.now() - datetime.timedelta(days=8))
    fresh = OrderFactory.create(pipeline=web_pipeline, by=rep, title="Fresh", stage="questionnaire-sent")
    launched = OrderFactory.create(pipeline=web_pipeline, by=rep, title="Launched", stage="site-launched")
    Order.objects.filter(pk=launched.pk).update(due_date=today - datetime.timedelta(days=30))
    found = set(listed(rep_client.get(LIST_URL, {"overdue": "on"})))
    assert found == {past_due.reference, lingering.reference}
    assert fresh.reference not in found


def test_filter_by_tag(rep_client, rep, web_pipeline):
    tagged = OrderFactory.create(pipeline=web_pipeline, by=rep)
    tagged.tags.add(Tag.objects.create(name="urgent"))
    OrderFactory.create(pipeline=web_pipeline, by=rep)
    assert listed(rep_client.get(LIST_URL, {"tag": "urgent"})) == [tagged.reference]


def test_filter_by_owner_me_nobody_or_a_person(rep_client, rep, web_pipeline):
    colleague = UserFactory.create(role=Role.REP)
    mine = OrderFactory.create(pipeline=web_pipeline, by=rep)
    theirs = OrderFactory.create(pipeline=web_pipeline, by=colleague)
    nobodys = OrderFactory.create(pipeline=web_pipeline, by=rep)
    Order.objects.filter(pk=nobodys.pk).update(owner=None)
    assert listed(rep_client.get(LIST_URL, {"owner": "me"})) == [mine.reference]
    assert listed(rep_client.get(LIST_URL, {"owner": "nobody"})) == [nobodys.reference]
    assert listed(rep_client.get(LIST_URL, {"owner": colleague.pk})) == [theirs.reference]


def test_filter_by_several_stages_and_by_pipeline(rep_client, rep, web_pipeline):
    first = OrderFactory.create(pipeline=web_pipeline, by=rep)
    sent = OrderFactory.create(pipeline=web_pipeline, by=rep, stage="questionnaire-sent")
    launched = OrderFactory.create(pipeline=web_pipeline, by=rep, stage="site-launched")
    other = OrderFactory.create(pipeline=PipelineFactory.create(), by=rep)
    stages = [sent.stage_id, launched.stage_id]
    assert set(listed(rep_client.get(LIST_URL, {"stage": stages}))) == {sent.reference, launched.reference}
    assert set(listed(rep_client.get(LIST_URL, {"pipeline": web_pipeline.pk}))) == {
        first.reference,
        sent.reference,
        launched.reference,
    }
    assert listed(rep_client.get(LIST_URL, {"pipeline": other.pipeline_id})) == [other.reference]


def test_sort_by_due_date_puts_orders_without_one_last(rep_client, rep, web_pipeline):
    later = OrderFactory.create(pipeline=web_pipeline, by=rep)
    undated = OrderFactory.create(pipeline=web_pipeline, by=rep)
    sooner = OrderFactory.create(pipeline=web_pipeline, by=rep)
    Order.objects.filter(pk=later.pk).update(due_date="2030-05-01")
    Order.objects.filter(pk=sooner.pk).update(due_date="2030-01-01")
    assert listed(rep_client.get(LIST_URL, {"sort": "due"})) == [
        sooner.reference,
        later.reference,
        undated.reference,
    ]


def test_sort_by_created_oldest_first(rep_client, rep, web_pipeline):
    orders = [OrderFactory.create(pipeline=web_pipeline, by=rep) for _ in range(3)]
    assert listed(rep_client.get(LIST_URL, {"sort": "created"})) == [o.reference for o in orders]
    assert listed(rep_client.get(LIST_URL, {"sort": "-created"})) == [o.reference for o in reversed(orders)]


def test_a_filter_change_from_htmx_gets_only_the_results(rep_client, rep, web_pipeline):
    OrderFactory.create(pipeline=web_pipeline, by=rep)
    response = rep_client.get(
        LIST_URL,
        {"q": "shop", "owner": "", "tag": ""},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="order-results",
    )
    page = response.content.decode()
    assert "<html" not in page
    assert "order-table" in page
    assert response["HX-Push-Url"] == f"{LIST_URL}?q=shop"


def test_no_match_explains_and_offers_to_clear_the_filters(rep_client, rep, web_pipeline):
    OrderFactory.create(pipeline=web_pipeline, by=rep)
    page = rep_client.get(LIST_URL, {"q": "no such thing"}).content.decode()
    assert "No orders match these filters" in page
    assert "Clear filters" in page


def test_an_empty_installation_invites_to_create_the_first_order(rep_client):
    assert "No orders yet" in rep_client.get(LIST_URL).content.decode()


def test_a_wrong_filter_value_is_ignored_not_an_error(rep_client, rep, web_pipeline):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    response = rep_client.get(LIST_URL, {"stage": "999999", "owner": "x", "sort": "nonsense", "page": "abc"})
    assert response.status_code == 200
    assert listed(response) == [order.reference]


# --- saved views ---------------------------------------------------------------------------------


def test_saving_the_current_filters_keeps_only_known_keys_in_a_stable_order(rep_client, rep):
    response = rep_client.post(
        reverse("backoffice:saved-view-create"),
        {"name": "My overdue", "query": "page=3&overdue=on&owner=me&evil=1&csrfmiddlewaretoken=x"},
    )
    view = SavedView.objects.get(owner=rep, name="My overdue")
    assert view.query == "owner=me&overdue=on"
    assert not view.is_shared
    assert response.status_code == 302
    assert response["Location"] == f"{LIST_URL}?owner=me&overdue=on"


def test_saving_again_under_the_same_name_replaces_the_filters(rep_client, rep):
    url = reverse("backoffice:saved-view-create")
    rep_client.post(url, {"name": "Mine", "query": "owner=me"})
    rep_client.post(url, {"name": "Mine", "query": "owner=nobody", "is_shared": "on"})
    view = SavedView.objects.get(owner=rep, name="Mine")
    assert view.query == "owner=nobody"
    assert view.is_shared


def test_the_list_offers_my_views_and_shared_ones_but_not_others_private_views(rep_client, rep):
    colleague = UserFactory.create(role=Role.REP)
    SavedView.objects.create(owner=rep, name="Mine only", query="owner=me")
    SavedView.objects.create(owner=colleague, name="Team overdue", query="overdue=on", is_shared=True)
    SavedView.objects.create(owner=colleague, name="Their secret", query="owner=nobody")
    page = rep_client.get(LIST_URL).content.decode()
    assert "Mine only" in page
    assert "Team overdue" in page
    assert "Their secret" not in page


def test_i_can_delete_my_view_but_not_a_colleagues_shared_one(rep_client, rep):
    mine = SavedView.objects.create(owner=rep, name="Mine", query="owner=me")
    shared = SavedView.objects.create(
        owner=UserFactory.create(role=Role.REP), name="Shared", query="overdue=on", is_shared=True
    )
    assert rep_client.post(reverse("backoffice:saved-view-delete", args=[mine.pk])).status_code == 302
    assert rep_client.post(reverse("backoffice:saved-view-delete", args=[shared.pk])).status_code == 404
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Shared"]


def test_a_saved_view_without_a_name_is_refused_with_a_message(rep_client, rep):
    response = rep_client.post(
        reverse("backoffice:saved-view-create"), {"name": "", "query": "owner=me"}, follow=True
    )
    assert not SavedView.objects.exists()
    assert "This field is required." in response.content.decode()


# --- bulk move -----------------------------------------------------------------------------------


def test_bulk_move_moves_what_it_may_and_lists_every_refusal_with_its_reason(rep_client, rep, web_pipeline):
    movable = [OrderFactory.create(pipeline=web_pipeline, by=rep) for _ in range(2)]
    already = OrderFactory.create(pipeline=web_pipeline, by=rep, stage="questionnaire-sent")
    elsewhere = OrderFactory.create(pipeline=PipelineFactory.create(), by=rep)
    target = web_pipeline.stages.get(key="questionnaire-sent")
    chosen = [*movable, already, elsewhere]
    response = rep_client.post(
        reverse("backoffice:order-bulk-move") + "?overdue=&q=",
        {"order": [o.pk for o in chosen], "stage": target.pk},
    )
    assert response.status_code == 200
    report = response.content.decode().split('data-testid="bulk-report"', 1)[1].split("</div>", 1)[0]
    assert "2 orders moved to “Questionnaire Sent”." in report
    assert "2 orders were not moved" in report
    assert already.reference in report
    assert "already in “Questionnaire Sent”" in report
    assert elsewhere.reference in report
    assert "belongs to another pipeline" in report
    for order in movable:
        order.refresh_from_db()
        assert order.stage == target
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.STAGE_CHANGED, actor=rep).count() == 2


def test_bulk_move_reports_a_guard_refusal_and_keeps_the_other_moves(rep_client, rep, web_pipeline):
    target = web_pipeline.stages.get(key="website-approved")
    Stage.objects.filter(pk=target.pk).update(allowed_from=["revisions-in-production"])
    ready = OrderFactory.create(pipeline=web_pipeline, by=rep, stage="revisions-in-production")
    early = OrderFactory.create(pipeline=web_pipeline, by=rep)
    response = rep_client.post(
        reverse("backoffice:order-bulk-move"),
        {"order": [ready.pk, early.pk], "stage": target.pk},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="order-results",
    )
    page = html.unescape(response.content.decode())
    assert "<html" not in page
    assert "1 order moved" in page
    assert f"{early.reference}</span> — “Website Approved” can't be reached from “Order Received”." in page
    ready.refresh_from_db()
    early.refresh_from_db()
    assert ready.stage == target
    assert early.stage.key == "order-received"


def test_bulk_move_reports_orders_that_vanished(rep_client, rep, web_pipeline):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    target = web_pipeline.stages.get(key="questionnaire-sent")
    response = rep_client.post(
        reverse("backoffice:order-bulk-move"), {"order": [order.pk, 987654], "stage": target.pk}
    )
    page = response.content.decode()
    assert "1 order moved" in page
    assert "#987654" in page


def test_bulk_move_without_orders_or_stage_says_what_is_missing(rep_client, rep, web_pipeline):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    nothing = rep_client.post(reverse("backoffice:order-bulk-move"), {"stage": order.stage_id})
    no_stage = rep_client.post(reverse("backoffice:order-bulk-move"), {"order": [order.pk]})
    assert nothing.status_code == 422
    assert "Tick the orders to move first." in nothing.content.decode()
    assert no_stage.status_code == 422
    assert "Choose the stage to move the orders to." in no_stage.content.decode()


def test_bulk_move_needs_the_move_permission(client, rep, web_pipeline):
    order = OrderFactory.create(pipeline=web_pipeline, by=rep)
    client.force_login(UserFactory.create(role=Role.CLIENT))
    target = web_pipeline.stages.get(key="questionnaire-sent")
    response = client.post(reverse("backoffice:order-bulk-move"), {"order": [order.pk], "stage": target.pk})
    assert response.status_code == 403
    assert client.get(LIST_URL).status_code == 403
