"""Settings → Booking types: admins and managers set up kinds of call; reps cannot; bad values are refused."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.pipelines.models import Pipeline
from orderflow.scheduling import configure
from orderflow.scheduling.models import BookingType
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("scheduling:settings-booking-types")
CREATE = reverse("scheduling:settings-booking-type-create")


def _logged_in(client, role: str) -> User:
    user = UserFactory(role=role, full_name=f"{role.title()} Person", email=f"{role}@agency.example")
    client.login(email=user.email, password=TEST_PASSWORD)
    return user


def _values(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "name": "Questionnaire review call",
        "description": "We go through your answers",
        "duration_minutes": "45",
        "buffer_before_minutes": "10",
        "buffer_after_minutes": "5",
        "minimum_notice_minutes": "240",
        "days_ahead": "21",
        "slot_step_minutes": "15",
        "max_per_day": "4",
        "assignment": "owner",
        "stage_key": "followup-call-scheduled",
        "change_until_hours": "12",
        "invitation_valid_days": "14",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_admins_and_managers_create_a_booking_type(client, web_pipeline: Pipeline, role: str) -> None:
    _logged_in(client, role)
    assert client.get(CREATE).status_code == 200
    response = client.post(CREATE, _values())
    assert response.status_code == 302
    created = BookingType.objects.get()
    assert (created.name, created.duration_minutes, created.buffer_before_minutes) == (
        "Questionnaire review call",
        45,
        10,
    )
    assert (created.slot_step_minutes, created.max_per_day, created.days_ahead) == (15, 4, 21)
    assert created.stage_key == "followup-call-scheduled"
    assert created.is_active
    listed = client.get(response["Location"]).content.decode()
    assert "Questionnaire review call" in listed
    assert "created" in listed


def test_round_robin_needs_a_group_of_active_staff(client, web_pipeline: Pipeline) -> None:
    admin = _logged_in(client, Role.ADMIN)
    rita = UserFactory(role=Role.REP, full_name="Rita Rep")
    bruno = UserFactory(role=Role.REP, full_name="Bruno Rep")
    gone = UserFactory(role=Role.REP, full_name="Gone Rep", is_active=False)
    outsider = UserFactory(role=Role.CLIENT, full_name="Some Client")
    form = client.get(CREATE).content.decode()
    assert "Rita Rep" in form
    assert "Bruno Rep" in form
    assert "Gone Rep" not in form
    assert "Some Client" not in form

    empty = client.post(CREATE, _values(assignment="round_robin"))
    assert empty.status_code == 422
    assert "Choose at least one staff member for the round-robin." in empty.content.decode()
    for stranger in (gone, outsider):
        refused = client.post(CREATE, _values(assignment="round_robin", staff_ids=[rita.pk, stranger.pk]))
        assert refused.status_code == 422
    assert not BookingType.objects.exists()

    client.post(CREATE, _values(assignment="round_robin", staff_ids=[rita.pk, bruno.pk]))
    created = BookingType.objects.get()
    assert set(created.staff.all()) == {rita, bruno}
    assert "Round-robin: Bruno Rep, Rita Rep" in client.get(LIST).content.decode()
    assert admin.has_perm("scheduling.change_bookingtype")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "This field is required."),
        ({"duration_minutes": "0"}, "A call lasts from 5 to 480 minutes."),
        ({"duration_minutes": "-30"}, "A call lasts from 5 to 480 minutes."),
        ({"buffer_before_minutes": "-5"}, "Free time is from 0 to 480 minutes."),
        ({"buffer_after_minutes": "-1"}, "Free time is from 0 to 480 minutes."),
        ({"minimum_notice_minutes": "-10"}, "The minimum notice cannot be negative."),
        ({"minimum_notice_minutes": str(3 * 24 * 60), "days_ahead": "3"}, "shorter than how far ahead"),
        ({"days_ahead": "0"}, "Calls can be booked from 1 to 730 days ahead."),
        ({"slot_step_minutes": "2"}, "A slot starts every 5 to 480 minutes."),
        ({"max_per_day": "0"}, "Allow at least one call a day"),
        ({"change_until_hours": "-1"}, "Clients can change a call until 0 to 720 hours before it."),
        ({"invitation_valid_days": "0"}, "A booking link is valid for 1 to 365 days."),
        ({"duration_minutes": "half an hour"}, "Enter a whole number."),
        ({"stage_key": "no-such-stage"}, "Select a valid choice."),
    ],
)
def test_bad_values_are_refused_with_a_message_and_nothing_is_saved(
    client, web_pipeline: Pipeline, changes: dict[str, str], message: str
) -> None:
    _logged_in(client, Role.MANAGER)
    response = client.post(CREATE, _values(**changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not BookingType.objects.exists()


def test_the_service_refuses_every_wrong_value_at_once_and_saves_nothing(web_pipeline: Pipeline) -> None:
    """Scripts and the admin site meet the same checks as the page, including ones the form cannot make."""
    admin = UserFactory(role=Role.ADMIN)
    wrong = configure.BookingTypeSettings(
        name="   ",
        duration_minutes=0,
        buffer_after_minutes=-5,
        max_per_day=0,
        assignment="round_robin",
        stage_key="no-such-stage",
    )
    with pytest.raises(configure.BookingTypeInputError) as refused:
        configure.create_booking_type(wrong, by=admin)
    assert set(refused.value.errors) == {
        "name",
        "duration_minutes",
        "buffer_after_minutes",
        "max_per_day",
        "staff_ids",
        "stage_key",
    }
    assert "no-such-stage" in refused.value.errors["stage_key"]
    assert refused.value.errors["name"].startswith("Give the kind of call a name")
    assert not BookingType.objects.exists()


def test_editing_keeps_bad_values_out_of_the_saved_type(client, web_pipeline: Pipeline) -> None:
    manager = _logged_in(client, Role.MANAGER)
    booking_type = configure.create_booking_type(
        configure.BookingTypeSettings(name="Review call", duration_minutes=30), by=manager
    )
    url = reverse("scheduling:settings-booking-type-edit", args=[booking_type.pk])
    page = client.get(url).content.decode()
    assert 'value="Review call"' in page
    refused = client.post(url, _values(name="Longer call", duration_minutes="600"))
    assert refused.status_code == 422
    booking_type.refresh_from_db()
    assert (booking_type.name, booking_type.duration_minutes) == ("Review call", 30)
    saved = client.post(url, _values(name="Longer call", duration_minutes="60", stage_key=""))
    assert saved.status_code == 302
    booking_type.refresh_from_db()
    assert (booking_type.name, booking_type.duration_minutes, booking_type.stage_key) == (
        "Longer call",
        60,
        "",
    )


def test_deactivating_stops_new_links_and_can_be_undone(client, web_pipeline: Pipeline) -> None:
    admin = _logged_in(client, Role.ADMIN)
    booking_type = configure.create_booking_type(configure.BookingTypeSettings(name="Review call"), by=admin)
    url = reverse("scheduling:settings-booking-type-active", args=[booking_type.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"is_active": "false"}, follow=True)
    assert "deactivated" in response.content.decode()
    booking_type.refresh_from_db()
    assert not booking_type.is_active
    calendar = client.get(reverse("scheduling:staff-calendar")).content.decode()
    assert "Review call" not in calendar  # the invite form offers active kinds only
    client.post(url, {"is_active": "true"})
    booking_type.refresh_from_db()
    assert booking_type.is_active


def test_a_rep_cannot_see_or_change_booking_types(client, web_pipeline: Pipeline) -> None:
    admin = UserFactory(role=Role.ADMIN)
    booking_type = configure.create_booking_type(configure.BookingTypeSettings(name="Review call"), by=admin)
    rep = _logged_in(client, Role.REP)
    edit = reverse("scheduling:settings-booking-type-edit", args=[booking_type.pk])
    active = reverse("scheduling:settings-booking-type-active", args=[booking_type.pk])
    assert client.get(LIST).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, _values(name="Sneaky call")).status_code == 403
    assert client.post(edit, _values(name="Renamed")).status_code == 403
    assert client.post(active, {"is_active": "false"}).status_code == 403
    booking_type.refresh_from_db()
    assert (booking_type.name, booking_type.is_active) == ("Review call", True)
    assert BookingType.objects.count() == 1
    with pytest.raises(configure.BookingTypeForbiddenError):
        configure.update_booking_type(booking_type, configure.BookingTypeSettings(name="Renamed"), by=rep)


def test_signed_out_visitors_are_sent_to_log_in(client) -> None:
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_list_asks_the_database_the_same_number_of_times_for_few_and_many_types(
    client, web_pipeline: Pipeline, django_assert_num_queries
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = _logged_in(client, Role.ADMIN)
    reps = [UserFactory(role=Role.REP) for _index in range(3)]

    def add(count: int) -> None:
        for index in range(count):
            configure.create_booking_type(
                configure.BookingTypeSettings(
                    name=f"Call {BookingType.objects.count() + index}",
                    assignment=BookingType.Assignment.ROUND_ROBIN,
                    staff_ids=[rep.pk for rep in reps],
                ),
                by=admin,
            )

    add(1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    add(12)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(LIST).status_code == 200


def test_managers_reach_booking_types_from_settings_and_the_calendar(client, web_pipeline: Pipeline) -> None:
    _logged_in(client, Role.MANAGER)
    calendar = client.get(reverse("scheduling:staff-calendar")).content.decode()
    assert re.search(rf'<a href="{LIST}"\s*>Settings</a>', calendar)  # the main menu
    assert f'href="{LIST}">Booking types</a>' in calendar
    page = client.get(LIST).content.decode()
    assert f'<a href="{LIST}" aria-current="page">Settings</a>' in page


def test_reps_see_no_way_to_booking_types(client, web_pipeline: Pipeline) -> None:
    _logged_in(client, Role.REP)
    calendar = client.get(reverse("scheduling:staff-calendar")).content.decode()
    assert LIST not in calendar


def test_only_settings_is_the_current_menu_item_on_booking_types(client, web_pipeline: Pipeline) -> None:
    _logged_in(client, Role.ADMIN)
    page = client.get(LIST).content.decode()
    assert page.count('aria-current="page"') == 1


def test_admins_reach_booking_types_from_the_settings_page(client, web_pipeline: Pipeline) -> None:
    _logged_in(client, Role.ADMIN)
    settings_page = client.get(reverse("backoffice:settings-pipeline-list")).content.decode()
    assert f'href="{LIST}">Booking types</a>' in settings_page
