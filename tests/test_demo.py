"""`orderflow demo`'s data: made through the real services, spread over every stage and the past months."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.demo import DEMO_DOMAIN, HISTORY_DAYS, STAFF, create_demo_data
from orderflow.pipelines.models import Order, OrderEvent, Pipeline, Stage
from orderflow.pipelines.process_io import load_demo_process

pytestmark = pytest.mark.django_db


def test_demo_orders_cover_every_stage_with_a_real_timeline_in_the_past() -> None:
    started = timezone.now()

    summary = create_demo_data(orders=20, seed=1)

    assert summary.orders == 20
    assert summary.stopped_short == []
    pipeline = Pipeline.objects.get()
    assert set(Order.objects.values_list("stage", flat=True)) == set(
        pipeline.stages.values_list("pk", flat=True)
    )
    assert OrderEvent.objects.count() == summary.events
    for order in Order.objects.prefetch_related("events"):
        events = sorted(order.events.all(), key=lambda event: event.pk)
        assert events[0].kind == OrderEvent.Kind.CREATED
        moments = [event.created_at for event in events]
        assert moments == sorted(moments), f"{order.reference}: the timeline runs backwards"
        assert started - timedelta(days=HISTORY_DAYS + 1) <= order.created_at <= started
        assert order.created_at == moments[0]
        assert order.stage_entered_at == moments[-1]
        moves = [event for event in events if event.kind == OrderEvent.Kind.STAGE_CHANGED]
        if moves:
            assert moves[-1].to_stage_id == order.stage_id
            assert all(a.to_stage_id == b.from_stage_id for a, b in itertools.pairwise(moves))


def test_demo_loads_the_demo_process_when_there_is_no_pipeline() -> None:
    assert not Pipeline.objects.exists()

    create_demo_data(orders=3, seed=1)

    assert Pipeline.objects.get().slug == "website"


def test_demo_staff_have_their_roles_and_are_created_once() -> None:
    first = create_demo_data(orders=2, seed=1)
    second = create_demo_data(orders=2, seed=2)

    assert len(first.staff_created) == len(STAFF)
    assert first.staff_password
    assert second.staff_created == []
    for member in STAFF:
        user = User.objects.get(email=member.email)
        assert user.is_staff
        assert user.has_role(member.role)
        assert user.has_perm("pipelines.move_order")
    assert Order.objects.filter(owner__groups__name=Role.REP).count() == 4


def test_demo_contacts_speak_three_languages_and_live_in_real_time_zones() -> None:
    create_demo_data(orders=60, seed=1)

    contacts = list(Contact.objects.all())
    assert len(contacts) == 20
    assert {contact.language for contact in contacts} == {"en", "pt", "ru"}
    assert {contact.kind for contact in contacts} == {Contact.Kind.PERSON, Contact.Kind.COMPANY}
    assert len({contact.time_zone for contact in contacts}) > 3
    for contact in contacts:
        contact.full_clean()


def test_demo_contacts_have_no_email_unless_the_catcher_keeps_it() -> None:
    with override_settings(MAIL_CATCHER=False):
        create_demo_data(orders=9, seed=1)
    assert not Contact.objects.exclude(email="").exists()

    with override_settings(MAIL_CATCHER=True):
        create_demo_data(orders=9, seed=1)
    with_email = list(Contact.objects.exclude(email="").values_list("email", flat=True))
    assert len(with_email) == 2
    assert all(address.endswith(f"@{DEMO_DOMAIN}") for address in with_email)


def test_demo_is_the_same_for_the_same_seed() -> None:
    def made_by(seed: int) -> list[tuple[str, str, str]]:
        before = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        create_demo_data(orders=12, seed=seed)
        orders = Order.objects.filter(pk__gt=before).order_by("pk").select_related("client", "stage")
        return [(order.title, order.client.name, order.stage.key) for order in orders]

    assert made_by(7) == made_by(7)
    assert made_by(7) != made_by(8)


def test_demo_fills_in_the_fields_a_stage_requires_before_moving_there() -> None:
    pipeline = load_demo_process()
    assert pipeline is not None
    launched = pipeline.stages.get(key="site-launched")
    launched.required_fields = ["live-site"]
    launched.save()

    summary = create_demo_data(orders=30, seed=3)

    assert summary.stopped_short == []
    orders = Order.objects.filter(stage=launched)
    assert orders.exists()
    assert all((order.fields or {}).get("live-site", "").startswith("https://") for order in orders)


def test_demo_lets_only_the_allowed_roles_set_a_restricted_stage() -> None:
    pipeline = load_demo_process()
    assert pipeline is not None
    cancelled = pipeline.stages.get(key="cancelled")
    cancelled.allowed_roles = [Role.MANAGER]
    cancelled.save()

    summary = create_demo_data(orders=30, seed=4)

    assert summary.stopped_short == []
    moves = OrderEvent.objects.filter(kind=OrderEvent.Kind.STAGE_CHANGED, to_stage=cancelled)
    assert moves.exists()
    assert {move.actor.email for move in moves if move.actor} == {"helena.costa@example.com"}


def test_demo_walks_only_moves_the_pipeline_allows() -> None:
    summary = create_demo_data(orders=40, seed=5)

    assert summary.stopped_short == []
    revisions = Stage.objects.get(key="revisions-submitted")
    for move in OrderEvent.objects.filter(to_stage=revisions).select_related("from_stage"):
        assert move.from_stage is not None
        assert not revisions.allowed_from or move.from_stage.key in revisions.allowed_from
