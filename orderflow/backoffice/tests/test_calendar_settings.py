"""Settings → Business calendar: an admin sets the work week and holidays and sees the days off."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from orderflow.accounts.models import ClosingDay, Organisation
from orderflow.accounts.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    return client


@time_machine.travel(datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC))
def test_an_admin_chooses_us_holidays_and_sees_them_for_the_next_twelve_months(admin_client):
    response = admin_client.post(
        reverse("backoffice:settings-calendar"),
        {"time_zone": "America/New_York", "work_days": [0, 1, 2, 3, 4], "holiday_country": "us"},
    )
    assert response.status_code == 302
    organisation = Organisation.current()
    assert (organisation.time_zone, organisation.holiday_country) == ("America/New_York", "US")

    page = admin_client.get(reverse("backoffice:settings-calendar")).content.decode()
    assert "Thanksgiving" in page  # 26 Nov 2026
    assert "Christmas Day" in page
    assert "Independence Day" in page  # July 2027: within twelve months


def test_a_wrong_region_is_refused_next_to_it_and_nothing_is_saved(admin_client):
    response = admin_client.post(
        reverse("backoffice:settings-calendar"),
        {
            "time_zone": "Europe/Lisbon",
            "work_days": [0, 1, 2, 3, 4],
            "holiday_country": "PT",
            "holiday_subdivision": "99",
        },
    )
    assert response.status_code == 422
    assert "has no region" in response.content.decode()
    assert Organisation.current().holiday_country == ""


def test_a_nonsense_time_zone_is_refused(admin_client):
    response = admin_client.post(
        reverse("backoffice:settings-calendar"), {"time_zone": "Mars/Olympus", "work_days": [0]}
    )
    assert response.status_code == 422
    assert Organisation.current().time_zone == "UTC"


def test_closing_days_are_added_once_and_removed(admin_client):
    url = reverse("backoffice:settings-closing-day-add")
    admin_client.post(url, {"date": "2030-03-03", "name": "Team retreat"})
    again = admin_client.post(url, {"date": "2030-03-03", "name": "Twice"})
    assert again.status_code == 422
    assert "already a closing day" in again.content.decode()
    day = ClosingDay.objects.get()
    assert day.name == "Team retreat"
    admin_client.post(reverse("backoffice:settings-closing-day-remove", args=[day.pk]))
    assert not ClosingDay.objects.exists()


def test_a_rep_may_not_change_the_calendar(client):
    client.force_login(UserFactory(role=Role.REP))
    response = client.post(
        reverse("backoffice:settings-calendar"), {"time_zone": "Europe/Lisbon", "work_days": [0]}
    )
    assert response.status_code == 403
    assert Organisation.current().time_zone == "UTC"
