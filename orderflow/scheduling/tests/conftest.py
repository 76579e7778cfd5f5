"""Fixtures for scheduling tests: a rep in Lisbon with office hours, a client in New York, a call type."""

from __future__ import annotations

import datetime

import pytest

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.notifications.tests.conftest import http_endpoint  # noqa: F401 (a local HTTP endpoint for SMS)
from orderflow.pipelines.models import Order, Pipeline
from orderflow.scheduling import services
from orderflow.scheduling.models import BookingInvitation, BookingType, WeeklyHours
from tests.factories import ContactFactory, OrderFactory, UserFactory

UTC = datetime.UTC
# A Wednesday between the US (14 March 2027) and the EU (28 March 2027) clock changes.
NOW = datetime.datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def add_office_hours(staff: User, starts: str = "09:00", ends: str = "17:00") -> None:
    for weekday in range(5):
        WeeklyHours.objects.create(
            staff=staff,
            weekday=weekday,
            starts=datetime.time.fromisoformat(starts),
            ends=datetime.time.fromisoformat(ends),
        )


@pytest.fixture
def lisbon_rep(db: None) -> User:
    rep = UserFactory(
        role=Role.REP, email="rita@example.com", full_name="Rita Rep", time_zone="Europe/Lisbon"
    )
    add_office_hours(rep)
    return rep


@pytest.fixture
def new_york_client(db: None) -> Contact:
    return ContactFactory(name="Ana Client", email="ana@example.com", time_zone="America/New_York")


@pytest.fixture
def call_type(db: None) -> BookingType:
    return BookingType.objects.create(
        name="Questionnaire review call",
        duration_minutes=30,
        minimum_notice_minutes=240,
        days_ahead=200,
        slot_step_minutes=30,
        stage_key="followup-call-scheduled",
        change_until_hours=24,
    )


@pytest.fixture
def order(web_pipeline: Pipeline, lisbon_rep: User, new_york_client: Contact) -> Order:
    return OrderFactory(
        pipeline=web_pipeline, client=new_york_client, owner=lisbon_rep, stage="questionnaire-received"
    )


@pytest.fixture
def invitation(order: Order, call_type: BookingType) -> BookingInvitation:
    invitation, _token = services.invite_to_book(order, call_type, by=None, now=NOW)
    return invitation


def at(text: str) -> datetime.datetime:
    """An aware instant from ISO text with an offset, e.g. at("2027-03-16T09:00+00:00")."""
    value = datetime.datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value
