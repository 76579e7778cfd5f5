"""Reports: the funnel and time in stage are right on a small known history, refuse bad periods,
are for managers and admins, and ask the database the same number of times for few or many orders."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.backoffice.tests.bulk_orders import bulk_orders
from orderflow.pipelines import configure
from orderflow.pipelines.configure import PipelineSettings, StageSettings
from orderflow.pipelines.models import Order, OrderEvent, Pipeline
from orderflow.pipelines.services import create_order, move_order
from orderflow.reports.selectors import Period, funnel, time_in_stage
from orderflow.reports.views import duration_text
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
MARCH = Period.of_days(datetime.date(2031, 3, 1), datetime.date(2031, 3, 31), zone=UTC)
HOUR = 3600.0


def at(day: int, hour: int, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2031, month, day, hour, tzinfo=UTC)


@pytest.fixture
def pipeline() -> Pipeline:
    pipeline = configure.create_pipeline(PipelineSettings(name="Logo design", number_prefix="LOGO"), by=None)
    for name in ("Brief", "Sketches", "Artwork"):
        configure.create_stage(pipeline, StageSettings(name=name), by=None)
    configure.create_stage(pipeline, StageSettings(name="Delivered", category="won"), by=None)
    configure.create_stage(pipeline, StageSettings(name="Paused", category="on_hold", is_side=True), by=None)
    return pipeline


def _open(pipeline: Pipeline, when: datetime.datetime) -> Order:
    with time_machine.travel(when, tick=False):
        return create_order(pipeline=pipeline, client=ContactFactory(), title=f"Logo {when:%d %H}", by=None)


def _move(order: Order, key: str, when: datetime.datetime) -> None:
    with time_machine.travel(when, tick=False):
        move_order(order, order.pipeline.stages.get(key=key), by=None)


@pytest.fixture
def march(pipeline: Pipeline) -> Pipeline:
    """Seven orders; five opened in March (see each line), one before, one after."""
    one = _open(pipeline, at(2, 9))  # Brief 1 h, Sketches 24 h, Artwork 48 h, Delivered
    _move(one, "sketches", at(2, 10))
    _move(one, "artwork", at(3, 10))
    _move(one, "delivered", at(5, 10))
    two = _open(pipeline, at(4, 9))  # Brief 2 h, Sketches 24 h, Paused 24 h, Sketches 24 h, Artwork
    _move(two, "sketches", at(4, 11))
    _move(two, "paused", at(5, 11))
    _move(two, "sketches", at(6, 11))
    _move(two, "artwork", at(7, 11))
    three = _open(pipeline, at(10, 9))  # Brief 3 h, Sketches until April
    _move(three, "sketches", at(10, 12))
    _move(three, "artwork", at(2, 12, month=4))
    four = _open(pipeline, at(12, 9))  # Brief 4 h, straight to Artwork (skips Sketches)
    _move(four, "artwork", at(12, 13))
    early = _open(pipeline, at(20, 9, month=2))  # opened in February: Brief 240 h, ended in March
    _move(early, "sketches", at(2, 9))
    _open(pipeline, at(20, 9))  # still in Brief
    _open(pipeline, at(2, 9, month=4))  # opened in April
    return pipeline


def test_the_funnel_counts_orders_opened_in_the_period_by_how_far_they_got(march: Pipeline) -> None:
    steps = funnel(march, MARCH)

    assert [(step.stage.name, step.reached) for step in steps] == [
        ("Brief", 5),
        ("Sketches", 4),
        ("Artwork", 3),
        ("Delivered", 1),
    ]
    assert [step.conversion for step in steps] == [Decimal("80.0"), Decimal("75.0"), Decimal("33.3"), None]
    assert [step.share for step in steps] == [
        Decimal("100.0"),
        Decimal("80.0"),
        Decimal("60.0"),
        Decimal("20.0"),
    ]


def test_the_funnel_counts_only_what_happened_by_the_end_of_the_period(march: Pipeline) -> None:
    first_week = Period.of_days(datetime.date(2031, 3, 1), datetime.date(2031, 3, 4), zone=UTC)
    assert [step.reached for step in funnel(march, first_week)] == [2, 2, 1, 0]


def test_time_in_stage_takes_the_stays_that_ended_in_the_period(march: Pipeline) -> None:
    rows = {row.stage.name: row for row in time_in_stage(march, MARCH)}

    assert list(rows) == ["Brief", "Sketches", "Artwork", "Delivered", "Paused"]
    brief = rows["Brief"]  # 1, 2, 3, 4 and 240 hours
    assert brief.stays == 5
    assert brief.median == pytest.approx(3 * HOUR)
    assert brief.p90 == pytest.approx((4 + 0.6 * 236) * HOUR)
    assert (rows["Sketches"].stays, rows["Sketches"].median, rows["Sketches"].p90) == (
        3,
        24 * HOUR,
        24 * HOUR,
    )
    assert (rows["Artwork"].stays, rows["Artwork"].median) == (1, pytest.approx(48 * HOUR))
    assert (rows["Paused"].stays, rows["Paused"].median) == (1, pytest.approx(24 * HOUR))
    assert (rows["Delivered"].stays, rows["Delivered"].median, rows["Delivered"].p90) == (0, None, None)
    assert brief.p90_share == Decimal("100.0")
    assert rows["Sketches"].p90_share == Decimal("16.5")  # 24 of 145.6 hours


def test_moves_recorded_without_their_entry_time_are_timed_from_the_timeline(march: Pipeline) -> None:
    kept = [(row.stage.name, row.stays, row.median, row.p90) for row in time_in_stage(march, MARCH)]
    assert OrderEvent.objects.filter(from_stage_entered_at__isnull=False).exists()

    OrderEvent.objects.update(from_stage_entered_at=None)  # as moves recorded before it was kept

    again = [(row.stage.name, row.stays, row.median, row.p90) for row in time_in_stage(march, MARCH)]
    assert again == [
        (name, stays, pytest.approx(median), pytest.approx(p90)) for name, stays, median, p90 in kept
    ]


def test_an_even_number_of_stays_has_the_median_between_the_middle_two(pipeline: Pipeline) -> None:
    for hours in (1, 2, 3, 10):
        order = _open(pipeline, at(2, 0))
        _move(order, "sketches", at(2, hours))
    brief = time_in_stage(pipeline, MARCH)[0]
    assert brief.median == pytest.approx(2.5 * HOUR)
    assert brief.p90 == pytest.approx((3 + 0.7 * 7) * HOUR)


def test_durations_read_as_people_say_them() -> None:
    assert duration_text(None) == "—"
    assert duration_text(12 * 60) == "12 min"
    assert duration_text(5 * HOUR + 20 * 60) == "5 h 20 min"
    assert duration_text(3 * 24 * HOUR + 4 * HOUR + 10) == "3 d 4 h"


# --- the page -------------------------------------------------------------------------------------


@pytest.fixture
def manager_client(client):
    client.force_login(UserFactory(role=Role.MANAGER))
    return client


def _url(pipeline: Pipeline, **query: str) -> str:
    url = reverse("reports:pipeline", args=[pipeline.slug])
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def _rows(page: str, testid: str) -> list[list[str]]:
    table = page[page.index(f'data-testid="{testid}"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    return [
        [
            re.sub(r"<[^>]+>|\s+", " ", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        ]
        for row in rows
    ]


def test_the_page_shows_the_numbers_in_tables_beside_the_charts(manager_client, march: Pipeline) -> None:
    response = manager_client.get(_url(march, start="2031-03-01", end="2031-03-31"))

    assert response.status_code == 200
    page = response.content.decode()
    assert _rows(page, "funnel-table") == [
        ["Brief", "5", "100.0 %", "80.0 %"],
        ["Sketches", "4", "80.0 %", "75.0 %"],
        ["Artwork", "3", "60.0 %", "33.3 %"],
        ["Delivered", "1", "20.0 %", "—"],
    ]
    assert _rows(page, "time-table") == [
        ["Brief", "5", "3 h 0 min", "6 d 1 h"],
        ["Sketches", "3", "1 d 0 h", "1 d 0 h"],
        ["Artwork", "1", "2 d 0 h", "2 d 0 h"],
        ["Delivered", "0", "—", "—"],
        ["Paused", "1", "1 d 0 h", "1 d 0 h"],
    ]
    assert '<rect x="0" y="0" height="10" width="80.0"' in page


def test_chart_sizes_stay_numbers_in_portuguese(manager_client, march: Pipeline) -> None:
    page = manager_client.get(_url(march, start="2031-03-01", end="2031-03-31"), HTTP_ACCEPT_LANGUAGE="pt")
    text = page.content.decode()
    assert 'width="80.0"' in text
    assert "80,0 %" in text


def test_the_period_is_read_in_the_viewers_time_zone(client, pipeline: Pipeline) -> None:
    _open(pipeline, at(1, 2))  # 1 March 02:00 UTC is still 28 February in New York
    viewer = UserFactory(role=Role.ADMIN, time_zone="America/New_York")
    client.force_login(viewer)
    page = client.get(_url(pipeline, start="2031-03-01", end="2031-03-31")).content.decode()
    assert _rows(page, "funnel-table")[0][1] == "0"
    page = client.get(_url(pipeline, start="2031-02-28", end="2031-03-31")).content.decode()
    assert _rows(page, "funnel-table")[0][1] == "1"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2031-03-31", "end": "2031-03-01"}, "The period starts after it ends"),
        ({"start": "2028-01-01", "end": "2031-03-01"}, "at most 731 days"),
        ({"start": "yesterday"}, "Enter a valid date"),
    ],
    ids=["reversed", "too-long", "not-a-date"],
)
def test_a_wrong_period_is_explained(manager_client, pipeline: Pipeline, query, message) -> None:
    response = manager_client.get(_url(pipeline, **query))
    assert response.status_code == 422
    assert message in response.content.decode()


def test_with_no_period_given_the_last_30_days_are_shown(client, pipeline: Pipeline) -> None:
    with time_machine.travel(at(31, 12), tick=False):
        client.force_login(UserFactory(role=Role.MANAGER))  # a session that has not expired by then
        page = client.get(_url(pipeline)).content.decode()
    assert "From March 2, 2031 to March 31, 2031" in page
    assert 'aria-current="true">Last 30 days' in page


def test_the_reports_link_goes_to_the_first_active_pipeline(manager_client, pipeline: Pipeline) -> None:
    response = manager_client.get(reverse("reports:home"), {"start": "2031-03-01"})
    assert response["Location"] == _url(pipeline, start="2031-03-01")


@pytest.mark.parametrize(
    ("role", "status"), [(Role.ADMIN, 200), (Role.MANAGER, 200), (Role.REP, 403), (Role.CLIENT, 403)]
)
def test_reports_are_for_managers_and_admins(client, pipeline: Pipeline, role: str, status: int) -> None:
    user: User = UserFactory(role=role)
    client.force_login(user)
    assert client.get(_url(pipeline)).status_code == status
    nav = client.get(reverse("backoffice:order-list")).content.decode()
    assert (reverse("reports:home") in nav) == (status == 200)


def _bulk_history(pipeline: Pipeline, count: int) -> None:
    """`count` orders opened in March, each with its "created" event and a move out of its first stage."""
    with time_machine.travel(at(10, 9), tick=False):
        orders = bulk_orders(pipeline, count)
    first, second = pipeline.stages.order_by("position")[:2]
    events = []
    for order in orders:
        events.append(
            OrderEvent(order=order, kind=OrderEvent.Kind.CREATED, to_stage=first, created_at=at(10, 9))
        )
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.STAGE_CHANGED,
                from_stage=first,
                to_stage=second,
                created_at=at(11, 9),
            )
        )
    OrderEvent.objects.bulk_create(events, batch_size=2000)


@pytest.mark.parametrize("count", [3, 600])
def test_the_page_asks_the_same_queries_for_few_or_many_orders(
    manager_client, pipeline: Pipeline, django_assert_num_queries, count
) -> None:
    _bulk_history(pipeline, count)
    url = _url(pipeline, start="2031-03-01", end="2031-03-31")
    manager_client.get(url)
    # session, user, two for permissions, the pipeline, its stages, the funnel, time in stage, the
    # active pipelines (switcher); on PostgreSQL also the savepoint, SET LOCAL jit and its release
    with django_assert_num_queries(9 if connection.vendor != "postgresql" else 12):
        page = manager_client.get(url).content.decode()
    assert _rows(page, "funnel-table")[0][1] == str(count)
