# ruff: noqa: RUF001  (Russian text: Cyrillic letters that look Latin are meant)
"""The client's own message settings: the signed link at the foot of every e-mail, the page it opens
(in the client's language), what it saves through the preferences service, what it refuses, and what
staff see of it afterwards."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import Contact, Organisation, User
from orderflow.notifications import contact_links, services
from orderflow.notifications.channels.email import EmailChannel, unsubscribe_url
from orderflow.notifications.models import (
    AppriseEndpoint,
    OutboxMessage,
    PreferenceChange,
    UnsubscribedAddress,
)
from orderflow.notifications.preferences import update_contact_preferences
from orderflow.notifications.tests.conftest import HttpEndpoint
from orderflow.pipelines.models import Pipeline
from tests.factories import ContactFactory, OrderFactory
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]
UTC = datetime.UTC
SETTINGS_LINK = re.compile(r"[^\s\"<>]*/messages/settings/[^\s\"<>/]+/")
EVERY_DAY = [str(day) for day in range(7)]


@pytest.fixture(autouse=True)
def _relative_links(settings: Any) -> None:
    """Links as paths, so the test client can open them."""
    settings.BASE_URL = ""


def _contact(language: str = "en", **fields: Any) -> Contact:
    values = {"name": "Ana Client", "email": "ana@example.com", "time_zone": "Europe/Lisbon", **fields}
    return ContactFactory(language=language, **values)


def _link(contact: Contact, **issued: Any) -> str:
    return contact_links.contact_link(contact.pk, contact_links.MESSAGE_SETTINGS, **issued)


def _form(**changes: Any) -> dict[str, Any]:
    """What the page posts when the client keeps e-mail and any time, and changes `changes`."""
    return {
        "first_channel": "email",
        "hours": "any",
        "window_start": "",
        "window_end": "",
        "days": EVERY_DAY,
        "time_zone": "Europe/Lisbon",
        "language": "en",
        **changes,
    }


def _state(contact: Contact) -> tuple[Any, ...]:
    contact.refresh_from_db()
    return (
        contact.channels,
        contact.opted_out_channels,
        contact.delivery_window_start,
        contact.delivery_window_end,
        contact.delivery_days,
        contact.time_zone,
        contact.language,
        contact.marketing_opt_out,
    )


# --- The link in every e-mail -----------------------------------------------------------------------


def test_every_email_to_a_contact_ends_with_a_settings_link_in_its_language(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    client: Client,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    olga = _contact("ru", phone="+79123456789")
    order = OrderFactory(pipeline=web_pipeline, client=olga)
    with django_capture_on_commit_callbacks(execute=True):
        services.notify_contact(
            olga, template_event="order.stage_changed", key="s", order=order, stage=order.stage
        )
    [mail] = smtp_delivery.wait_for(1)

    plain, rich = (mail.message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
    assert plain is not None
    assert rich is not None
    text, html = plain.get_content().replace("\r\n", "\n"), rich.get_content()
    assert "-- \nВаши настройки сообщений (как и когда мы с вами связываемся):\n" in text
    [link] = SETTINGS_LINK.findall(text)
    assert f'href="{link}"' in html
    assert "Ваши настройки сообщений</a>" in html
    assert html.index("Ваши настройки сообщений") < html.index("</body>")
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert '<html lang="ru">' in page.text
    assert "Ana Client" in page.text
    stored = OutboxMessage.objects.get()
    assert link not in stored.body_text, "the link is added when sending, never kept in the outbox row"


def test_an_email_to_no_contact_has_no_settings_link(smtp_delivery: SmtpServer) -> None:
    message = services.queue_email(
        key="third-party",
        recipient="accountant@example.com",
        subject="A request",
        body_text="Hi.",
        language="en",
    )
    EmailChannel().send(message)
    [mail] = smtp_delivery.wait_for(1)
    assert mail.body.strip() == "Hi."


def test_every_attempt_sends_the_same_link_and_every_message_a_fresh_one(smtp_delivery: SmtpServer) -> None:
    ana = _contact()
    start = datetime.datetime(2030, 3, 4, 10, 0, tzinfo=UTC)

    def queue(key: str) -> OutboxMessage:
        return services.queue_email(
            key=key, recipient=ana.email, subject="News", body_text="Hello.", language="en", contact=ana
        )

    with time_machine.travel(start, tick=False):
        first = queue("first")
    with time_machine.travel(start + datetime.timedelta(days=1), tick=False):
        EmailChannel().send(first)
        second = queue("second")
    with time_machine.travel(start + datetime.timedelta(days=2), tick=False):
        EmailChannel().send(first)  # a worker died after the server took it: sent again
        EmailChannel().send(second)
    one, again, other = smtp_delivery.wait_for(3)

    assert one.raw.split(b"\r\n\r\n", 1)[1] == again.raw.split(b"\r\n\r\n", 1)[1]
    assert SETTINGS_LINK.findall(one.body) != SETTINGS_LINK.findall(other.body)


def test_an_sms_stays_short_without_the_link(
    http_endpoint: HttpEndpoint, web_pipeline: Pipeline, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms"))
    olga = update_contact_preferences(_contact(), by=None, channels=["sms"], phone="+79123456789")
    order = OrderFactory(pipeline=web_pipeline, client=olga)
    with django_capture_on_commit_callbacks(execute=True):
        services.notify_contact(
            olga, template_event="order.stage_changed", key="s", order=order, stage=order.stage
        )
    [post] = http_endpoint.posts
    assert "/messages/settings/" not in post.payload["message"]


# --- Links that do not open -------------------------------------------------------------------------


def test_a_tampered_link_gets_a_clear_page_that_names_nobody(client: Client) -> None:
    ana = _contact()
    link = _link(ana)
    for broken in (
        link[:-4] + "AAA/",
        link.replace("/settings/", "/settings/x"),
        "/messages/settings/nothing/",
    ):
        page = client.get(broken)
        assert page.status_code == 404
        assert "This link does not work" in page.text
        assert "Ana" not in page.text
        assert client.post(broken, _form(days=["0"])).status_code == 404
    assert _state(ana)[4] == [0, 1, 2, 3, 4, 5, 6]


def test_a_link_for_one_contact_never_opens_another(client: Client) -> None:
    ana, bruno = _contact(), ContactFactory(name="Bruno", email="bruno@example.com")
    token = contact_links.contact_token(ana.pk, contact_links.MESSAGE_SETTINGS)
    # Bruno's id in Ana's signed token: the signature no longer matches.
    payload, rest = token.split(":", 1)
    forged = signing.b64_encode(f'{{"contact":{bruno.pk}}}'.encode()).decode() + ":" + rest
    assert payload != forged.split(":", 1)[0]
    url = reverse("notifications:message-settings", args=[forged])
    before = _state(bruno)
    assert client.post(url, _form(days=["0"])).status_code == 404
    assert _state(bruno) == before
    assert "Ana Client" in client.get(_link(ana)).text
    assert "Bruno" not in client.get(_link(ana)).text


def test_an_unsubscribe_link_does_not_open_the_settings_and_back(client: Client) -> None:
    ana = _contact()
    unsubscribe_token = unsubscribe_url(ana.pk).rsplit("/", 2)[-2]
    settings_token = _link(ana).rsplit("/", 2)[-2]
    assert client.get(reverse("notifications:message-settings", args=[unsubscribe_token])).status_code == 404
    assert client.post(reverse("notifications:unsubscribe", args=[settings_token])).status_code == 404
    ana.refresh_from_db()
    assert ana.marketing_opt_out is False


def test_a_link_works_for_ninety_days_then_says_it_expired(client: Client) -> None:
    ana = _contact()
    sent = datetime.datetime(2030, 1, 10, 9, 0, tzinfo=UTC)
    link = _link(ana, issued_at=sent)
    with time_machine.travel(sent + datetime.timedelta(days=89, hours=23), tick=False):
        assert client.get(link).status_code == 200
    with time_machine.travel(sent + datetime.timedelta(days=90, minutes=1), tick=False):
        page = client.get(link)
        assert page.status_code == 410
        assert "This link has expired" in page.text
        assert "latest message" in page.text
        assert "Ana" not in page.text
        assert client.post(link, _form(days=["0"])).status_code == 410
    assert _state(ana)[4] == [0, 1, 2, 3, 4, 5, 6]


def test_a_link_to_a_deleted_contact_is_told_like_an_unknown_one(client: Client) -> None:
    ana = _contact()
    link = _link(ana)
    ana.delete()
    assert client.get(link).status_code == 404


# --- Saving -----------------------------------------------------------------------------------------


def test_a_portuguese_client_chooses_a_call_first_and_office_hours(client: Client) -> None:
    ana = _contact("pt", phone="+351912345678")
    link = _link(ana)
    page = client.get(link)
    assert '<html lang="pt">' in page.text
    assert "As suas definições de mensagens" in page.text
    assert 'value="sms"' not in page.text, "no SMS while the business has no SMS service"

    response = client.post(
        link,
        _form(
            first_channel="call",
            second_channel="email",
            hours="between",
            window_start="09:00",
            window_end="18:00",
            days=["0", "1", "2", "3", "4"],
            language="pt",
            marketing_opt_out="on",
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("?saved=1")
    assert (
        "Guardado. As nossas próximas mensagens seguem estas definições."
        in client.get(response.headers["Location"]).text
    )
    assert _state(ana) == (
        ["call", "email"],
        [],
        datetime.time(9),
        datetime.time(18),
        [0, 1, 2, 3, 4],
        "Europe/Lisbon",
        "pt",
        True,
    )
    assert ana.preferred_channel == "call"
    # "No offers" on the client's page is the unsubscribe: the address is held back too.
    assert UnsubscribedAddress.objects.filter(email="ana@example.com").exists()
    [change] = PreferenceChange.objects.all()
    assert (change.source, change.changed_by) == (PreferenceChange.Source.CLIENT, None)
    assert change.changes["channels"] == [["email"], ["call", "email"]]
    assert change.changes["delivery_window_start"] == ["00:00", "09:00"]


def test_a_russian_client_chooses_sms_first_and_moscow_time(
    client: Client, http_endpoint: HttpEndpoint
) -> None:
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms"))
    olga = _contact("ru", phone="+79123456789", name="Olga")
    link = _link(olga)
    page = client.get(link)
    assert '<html lang="ru">' in page.text
    assert "Ваши настройки сообщений" in page.text
    assert 'value="sms"' in page.text

    response = client.post(
        link,
        _form(
            first_channel="sms",
            second_channel="email",
            third_channel="",
            opted_out_channels=["call"],
            hours="between",
            window_start="10:00",
            window_end="19:00",
            time_zone="Europe/Moscow",
            language="ru",
        ),
    )
    assert response.status_code == 302
    assert "Сохранено." in client.get(response.headers["Location"]).text
    assert _state(olga) == (
        ["sms", "email"],
        ["call"],
        datetime.time(10),
        datetime.time(19),
        [0, 1, 2, 3, 4, 5, 6],
        "Europe/Moscow",
        "ru",
        False,
    )
    assert olga.phone == "+79123456789", "the page never touches the phone number"


def test_the_switch_shows_the_page_in_another_language_and_keeps_it_after_saving(client: Client) -> None:
    olga = _contact("ru")
    link = _link(olga)
    page = client.get(f"{link}?lang=en")
    assert '<html lang="en">' in page.text
    assert "Your message settings" in page.text
    assert f'href="{link}?lang=pt"' in page.text
    assert 'hreflang="ru"' in page.text
    response = client.post(f"{link}?lang=en", _form(language="ru", days=["5", "6"]))
    assert response.headers["Location"].endswith("?saved=1&lang=en")
    assert _state(olga)[4] == [5, 6]
    assert olga.language == "ru"
    assert '<html lang="ru">' in client.get(f"{link}?lang=xx").text


def test_a_double_submit_saves_once_and_records_one_change(client: Client) -> None:
    ana = _contact()
    link = _link(ana)
    data = _form(hours="between", window_start="09:00", window_end="21:00")
    assert client.post(link, data).status_code == 302
    after_first = _state(ana)
    assert client.post(link, data).status_code == 302
    assert _state(ana) == after_first
    assert PreferenceChange.objects.count() == 1


def test_channels_the_page_does_not_show_keep_their_place_and_refusals(client: Client) -> None:
    ana = update_contact_preferences(
        _contact(), by=None, channels=["portal", "email"], opted_out_channels=["messenger"]
    )
    page = client.get(_link(ana))
    assert 'value="portal"' not in page.text
    assert 'value="messenger"' not in page.text
    assert client.post(_link(ana), _form(opted_out_channels=["call"])).status_code == 302
    assert _state(ana)[:2] == (["email", "portal"], ["call", "messenger"])


# --- Refusals in place, nothing saved ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "language", "message"),
    [
        pytest.param(
            {"hours": "between", "window_start": "21:00", "window_end": "09:00"},
            "en",
            "Hours across midnight are not possible",
            id="across-midnight",
        ),
        pytest.param(
            {"hours": "between", "window_start": "21:00", "window_end": "09:00"},
            "ru",
            "через полночь",
            id="across-midnight-ru",
        ),
        pytest.param(
            {"hours": "between", "window_start": "21:00", "window_end": "09:00"},
            "pt",
            "depois da meia-noite",
            id="across-midnight-pt",
        ),
        pytest.param(
            {"hours": "between", "window_start": "", "window_end": "18:00"},
            "en",
            "Enter a time",
            id="no-start",
        ),
        pytest.param({"days": []}, "en", "Choose at least one day on which we may contact you.", id="no-day"),
        pytest.param({"days": []}, "pt", "Escolha pelo menos um dia", id="no-day-pt"),
        pytest.param({"time_zone": "Mars/Olympus"}, "en", "not a time zone name", id="zone"),
        pytest.param({"first_channel": "sms"}, "en", "Select a valid choice", id="sms-not-offered"),
        pytest.param({"first_channel": "portal"}, "en", "Select a valid choice", id="portal"),
        pytest.param(
            {"opted_out_channels": ["email"]}, "en", "You chose E-mail above", id="chosen-and-refused"
        ),
        pytest.param(
            {"opted_out_channels": ["email"]},
            "ru",
            "Вы уже выбрали «Эл. почта» выше",
            id="chosen-and-refused-ru",
        ),
        pytest.param({"language": "de"}, "en", "Select a valid choice", id="language"),
    ],
)
def test_bad_values_are_refused_next_to_their_field_and_nothing_is_saved(
    client: Client, changes: dict[str, Any], language: str, message: str
) -> None:
    ana = _contact(language)
    before = _state(ana)
    page = client.post(_link(ana), _form(**{"language": language, **changes}))
    assert page.status_code == 422
    assert message in page.text
    assert _state(ana) == before
    assert not PreferenceChange.objects.exists()


def test_a_channel_both_chosen_and_refused_is_refused(client: Client) -> None:
    ana = _contact(phone="+351912345678")
    page = client.post(
        _link(ana), _form(first_channel="call", opted_out_channels=["email"], second_channel="")
    )
    assert page.status_code == 302  # a call is still possible
    page = client.post(
        _link(ana), _form(first_channel="call", second_channel="", opted_out_channels=["email", "call"])
    )
    assert page.status_code == 422
    assert "You chose Phone call above" in page.text


def test_the_same_start_and_end_is_any_time_as_for_staff(client: Client) -> None:
    ana = _contact()
    page = client.post(_link(ana), _form(hours="between", window_start="18:00", window_end="18:00"))
    # 18:00 to 18:00 is "any time" by the windows' rule: accepted, stored as given.
    assert page.status_code == 302
    assert _state(ana)[2:4] == (datetime.time(18), datetime.time(18))


# --- Staff see who changed what ---------------------------------------------------------------------


def test_staff_see_changes_by_the_client_and_by_staff(client: Client, rep: User) -> None:
    ana = _contact()
    client.post(_link(ana), _form(days=["0", "1"]))
    update_contact_preferences(ana, by=rep, channels=["email"], days=[0, 1, 2])
    client.post(unsubscribe_url(ana.pk))

    client.force_login(rep)
    rep.user_permissions.add(*_permissions("change_contact"))
    page = client.get(reverse("notifications:contact-preferences", args=[ana.pk]))
    history = page.text[page.text.index("Latest changes") :]
    assert history.index("By the client, with the unsubscribe link") < history.index("By Rita Rep")
    assert history.index("By Rita Rep") < history.index("By the client, on their message settings page")
    assert "On these days: Mon, Tue, Wed, Thu, Fri, Sat, Sun → Mon, Tue" in history
    assert "No offers: no → yes" in history


def _permissions(codename: str) -> list[Any]:
    from django.contrib.auth.models import Permission

    return list(Permission.objects.filter(codename=codename))


# --- Query counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("earlier_changes", [0, 40])
def test_the_page_asks_the_database_a_fixed_number_of_times(
    client: Client, django_assert_num_queries: Any, earlier_changes: int, http_endpoint: HttpEndpoint
) -> None:
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms"))
    AppriseEndpoint.objects.create(channel="messenger", url=http_endpoint.json_url("chat"))
    ana = _contact(phone="+351912345678", messenger_id="ana_c")
    for n in range(earlier_changes):
        update_contact_preferences(ana, by=None, channels=["email"], days=[n % 7])
    link = _link(ana)
    Organisation.current()
    # The contact, the services configured, the organisation's name.
    with django_assert_num_queries(3):
        assert client.get(link).status_code == 200
    with django_assert_num_queries(3):
        assert client.post(link, _form(days=[])).status_code == 422


@pytest.mark.parametrize("changes", [1, 30])
def test_the_staff_page_history_costs_one_query_however_long(
    client: Client, rep: User, django_assert_num_queries: Any, changes: int
) -> None:
    ana = _contact()
    for n in range(changes):
        update_contact_preferences(ana, by=rep if n % 2 else None, channels=["email"], days=[n % 7])
    rep.user_permissions.add(*_permissions("change_contact"))
    client.force_login(rep)
    # Session, user, the user's and the groups' permissions, the contact, the history with its staff.
    with django_assert_num_queries(6):
        page = client.get(reverse("notifications:contact-preferences", args=[ana.pk]))
    assert page.text.count('data-testid="preference-change"') == min(changes, 10)
