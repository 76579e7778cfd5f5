"""Clients racing: twenty for one time (one gets it), ten for different times on a day that takes one."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection

from orderflow.scheduling import services
from orderflow.scheduling.models import Booking
from orderflow.scheduling.tests.conftest import NOW, at
from tests.factories import OrderFactory

RACERS = 20
SLOT = at("2027-03-16T14:00+00:00")


def race(invitations, starts=None) -> list[object]:
    """Each invitation books its start (all SLOT unless `starts` says otherwise) at the same moment."""
    starts = starts or [SLOT] * len(invitations)
    barrier = threading.Barrier(len(invitations))
    results: list[object] = [None] * len(invitations)

    def attempt(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = services.book_slot(
                invitations[index], starts[index], client_time_zone="America/New_York", now=NOW
            )
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(len(invitations))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _racing_invitations(order, call_type, count: int = RACERS):
    invitations = []
    for _index in range(count):
        other = OrderFactory(pipeline=order.pipeline, client=order.client, owner=order.owner)
        invitation, _token = services.invite_to_book(other, call_type, by=None, now=NOW)
        invitations.append(invitation)
    return invitations


def _assert_one_winner(results, racers: int = RACERS) -> None:
    winners = [result for result in results if isinstance(result, Booking)]
    refusals = [result for result in results if isinstance(result, services.SlotUnavailableError)]
    others = [result for result in results if not isinstance(result, Booking | services.SlotUnavailableError)]
    assert others == []
    assert len(winners) == 1
    assert len(refusals) == racers - 1
    assert {refusal.code for refusal in refusals} == {"slot_taken"}
    assert all("just taken" in refusal.message for refusal in refusals)
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_bookings_of_one_time_on_postgresql_give_one_booking(order, call_type):
    _assert_one_winner(race(_racing_invitations(order, call_type)))


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_bookings_of_one_time_give_one_booking_on_either_database(order, call_type):
    _assert_one_winner(race(_racing_invitations(order, call_type)))


DAY_RACERS = 10
# Ten different half hours of Tuesday 16 March (Lisbon 09:00-14:00): none overlaps another.
DAY_STARTS = [SLOT.replace(hour=9) + datetime.timedelta(minutes=30 * n) for n in range(DAY_RACERS)]


def _race_for_a_day_that_takes_one(order, call_type) -> None:
    call_type.max_per_day = 1
    call_type.save(update_fields=["max_per_day"])
    results = race(_racing_invitations(order, call_type, DAY_RACERS), DAY_STARTS)
    _assert_one_winner(results, DAY_RACERS)
    booked = Booking.objects.get(status=Booking.Status.CONFIRMED)
    assert booked.starts_at in DAY_STARTS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_max_per_day_holds_when_clients_book_different_times_at_once_on_postgresql(order, call_type):
    """Without serialising per staff member, each racer counts zero calls that day and all ten win."""
    _race_for_a_day_that_takes_one(order, call_type)


@pytest.mark.django_db(transaction=True)
def test_max_per_day_holds_when_clients_book_different_times_at_once_on_either_database(order, call_type):
    _race_for_a_day_that_takes_one(order, call_type)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_itself_refuses_an_overlapping_booking(order, call_type, invitation):
    """Even a write that skips book_slot's check cannot double-book on PostgreSQL."""
    from django.db import IntegrityError

    first = services.book_slot(invitation, SLOT, client_time_zone="UTC", now=NOW)
    other = OrderFactory(pipeline=order.pipeline, client=order.client, owner=order.owner)
    second, _token = services.invite_to_book(other, call_type, by=None, now=NOW)
    with pytest.raises(IntegrityError, match="scheduling_booking_no_overlap"):
        Booking.objects.create(
            invitation=second,
            order=other,
            booking_type=call_type,
            staff=first.staff,
            starts_at=first.starts_at,
            ends_at=first.ends_at,
            blocked_from=first.blocked_from,
            blocked_until=first.blocked_until,
            client_time_zone="UTC",
        )
