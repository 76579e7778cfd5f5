"""Questions that fill a client setting: the definition's checks, and the order's client's answers
becoming their message settings (never a third party's, never half-applied)."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import Contact, User
from orderflow.client_requests import selectors, services
from orderflow.client_requests.definitions import (
    AnswerError,
    FormDefinitionError,
    clean_answer,
    clean_definition,
    display_answer,
)
from orderflow.client_requests.forms import QuestionForm
from orderflow.client_requests.models import ClientRequest, FormTemplate, Recipient
from orderflow.client_requests.services import SubmissionIncomplete
from orderflow.client_requests.tests.conftest import SendTo, token_from_outbox
from orderflow.notifications import services as notifications
from orderflow.notifications.models import AppriseEndpoint, OutboxMessage, PreferenceChange
from orderflow.pipelines.models import Order

pytestmark = pytest.mark.django_db

LISBON = zoneinfo.ZoneInfo("Europe/Lisbon")

SETTINGS_FORM: dict[str, Any] = {
    "title": "How should we keep you informed?",
    "questions": [
        {"key": "channel", "type": "dropdown", "label": "First contact me by", "choices": ["E-mail", "SMS"], "saves_to": "channel"},
        {"key": "phone", "type": "phone", "label": "Mobile", "saves_to": "phone"},
        {"key": "from", "type": "short_text", "label": "From", "saves_to": "window_start"},
        {"key": "until", "type": "short_text", "label": "Until", "saves_to": "window_end"},
        {"key": "zone", "type": "short_text", "label": "Where do you live?", "saves_to": "time_zone"},
        {"key": "language", "type": "dropdown", "label": "Language", "choices": ["English", "Português", "Русский"], "saves_to": "language"},
        {"key": "offers", "type": "yes_no", "label": "No offers?", "saves_to": "no_offers"},
    ],
}  # fmt: skip


def _recipient(token: str) -> Recipient:
    recipient = selectors.recipient_for_token(token)
    assert recipient is not None
    return recipient


@pytest.fixture
def settings_form(rep: User) -> FormTemplate:
    return services.create_form(name="Keeping informed", description="", definition=SETTINGS_FORM, by=rep)


def _answer(recipient: Recipient, answers: dict[str, str]) -> None:
    for key, value in answers.items():
        services.save_answer(recipient, key, value)


# --- The definition ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ({"type": "long_text", "saves_to": "phone"}, "type does not fit"),
        ({"type": "short_text", "saves_to": "channel"}, "type does not fit"),
        ({"type": "dropdown", "choices": ["E-mail", "Pigeon"], "saves_to": "channel"}, "“Pigeon”"),
        ({"type": "dropdown", "choices": ["English", "Klingon"], "saves_to": "language"}, "“Klingon”"),
        ({"type": "short_text", "saves_to": "shoe_size"}, "unknown client setting"),
    ],
)
def test_a_question_fills_only_a_setting_its_type_fits(question: dict[str, Any], message: str) -> None:
    with pytest.raises(FormDefinitionError, match=message):
        clean_definition({"questions": [{"label": "Q", **question}]})


def test_each_setting_is_filled_by_one_question_at_most() -> None:
    phone = {"type": "phone", "label": "Phone", "saves_to": "phone"}
    with pytest.raises(FormDefinitionError, match="Only one question"):
        clean_definition({"questions": [phone, {**phone, "label": "Other phone"}]})
    cleaned = clean_definition(SETTINGS_FORM)
    assert [q["saves_to"] for q in cleaned["questions"]][:2] == ["channel", "phone"]


def test_answers_that_fill_a_setting_are_checked_as_the_setting_is() -> None:
    questions = {q["key"]: q for q in clean_definition(SETTINGS_FORM)["questions"]}
    assert clean_answer(questions["from"], "9.30") == "09:30"
    assert clean_answer(questions["zone"], "tokyo") == "Asia/Tokyo"
    assert clean_answer(questions["zone"], "Europe/Lisbon") == "Europe/Lisbon"
    with pytest.raises(AnswerError, match="time of day"):
        clean_answer(questions["until"], "after lunch")
    with pytest.raises(AnswerError, match="time zone"):
        clean_answer(questions["zone"], "Atlantis")
    with pytest.raises(AnswerError, match="international form"):
        clean_answer(questions["phone"], "912 345 678")
    assert display_answer(questions["channel"], "SMS") == "SMS"


def test_the_builder_fills_a_channel_question_with_the_channels_offered() -> None:
    form = QuestionForm({"type": "single_choice", "label": "How?", "saves_to": "channel", "choices": ""})
    assert form.is_valid(), form.errors
    assert form.to_question()["choices"] == ["E-mail", "Phone call"]
    AppriseEndpoint.objects.create(channel="sms", url="json://localhost/sms")
    assert form.to_question()["choices"] == ["E-mail", "SMS", "Phone call"]
    language = QuestionForm({"type": "dropdown", "label": "Language", "saves_to": "language"})
    assert language.is_valid(), language.errors
    assert clean_definition({"questions": [language.to_question()]})["questions"][0]["choices"] == [
        "English",
        "Português",
        "Русский",
    ]


# --- Submitting ----------------------------------------------------------------------------------


def test_the_clients_answers_become_their_message_settings(
    settings_form: FormTemplate, send_to_client: SendTo, order: Order, rep: User, client: Client
) -> None:
    _request, token = send_to_client(settings_form)
    recipient = _recipient(token)
    _answer(
        recipient,
        {
            "channel": "SMS",
            "phone": "+351 912 345 678",
            "from": "09:00",
            "until": "18:00",
            "zone": "Lisbon",
            "language": "Português",
            "offers": "yes",
        },
    )
    services.submit_request(recipient)

    ana = Contact.objects.get(pk=order.client_id)
    assert (ana.channels, ana.preferred_channel, ana.phone) == (["sms", "email"], "sms", "+351912345678")
    assert (ana.delivery_window_start, ana.delivery_window_end) == (datetime.time(9), datetime.time(18))
    assert (ana.time_zone, ana.language, ana.marketing_opt_out) == ("Europe/Lisbon", "pt", True)
    assert ana.delivery_days == [0, 1, 2, 3, 4, 5, 6], "what the form does not ask stays"
    [change] = PreferenceChange.objects.filter(contact=ana)
    assert (change.source, change.changed_by) == (PreferenceChange.Source.FORM, None)
    assert change.changes["delivery_window_start"] == ["00:00", "09:00"]
    assert change.changes["language"] == ["en", "pt"]
    client.force_login(rep)
    page = client.get(reverse("notifications:contact-preferences", args=[ana.pk])).content.decode()
    assert '<span class="by-client">By the client, answering a form</span>' in page


def test_unanswered_setting_questions_keep_what_the_client_had(
    settings_form: FormTemplate, send_to_client: SendTo, order: Order
) -> None:
    Contact.objects.filter(pk=order.client_id).update(
        channels=["call", "email"], phone="+351912345678", time_zone="Europe/Lisbon"
    )
    _request, token = send_to_client(settings_form)
    recipient = _recipient(token)
    _answer(recipient, {"until": "20:00", "from": "08:30"})
    services.submit_request(recipient)
    ana = Contact.objects.get(pk=order.client_id)
    assert (ana.channels, ana.phone, ana.time_zone) == (["call", "email"], "+351912345678", "Europe/Lisbon")
    assert (ana.delivery_window_start, ana.delivery_window_end) == (datetime.time(8, 30), datetime.time(20))


def test_a_third_partys_answers_change_nothing_of_the_client(
    settings_form: FormTemplate, order: Order, rep: User
) -> None:
    services.send_request(
        order,
        form=settings_form,
        recipients=[services.RecipientSpec(name="Jo Spouse", email="jo@example.com")],
        by=rep,
    )
    spouse = _recipient(token_from_outbox("jo@example.com"))
    assert not spouse.is_client
    _answer(spouse, {"channel": "SMS", "phone": "+351 912 345 678", "from": "09:00", "until": "18:00"})
    services.submit_request(spouse)
    ana = Contact.objects.get(pk=order.client_id)
    assert (ana.channels, ana.phone, ana.delivery_window_start) == ([], "", datetime.time(0))
    assert not PreferenceChange.objects.exists()


def test_a_setting_refused_is_shown_at_its_question_and_nothing_is_submitted(
    settings_form: FormTemplate, send_to_client: SendTo, order: Order
) -> None:
    request, token = send_to_client(settings_form)
    recipient = _recipient(token)
    with pytest.raises(AnswerError, match="international form"):
        services.save_answer(recipient, "phone", "912 345")
    _answer(recipient, {"channel": "SMS", "from": "18:00", "until": "09:00"})

    with pytest.raises(SubmissionIncomplete) as refused:
        services.submit_request(recipient)
    assert list(refused.value.errors) == ["channel"]
    assert "phone number" in refused.value.errors["channel"]

    services.save_answer(recipient, "phone", "+351 912 345 678")
    with pytest.raises(SubmissionIncomplete) as refused:
        services.submit_request(recipient)
    assert list(refused.value.errors) == ["until"]
    assert "end after they start" in refused.value.errors["until"]

    request.refresh_from_db()
    assert (request.status, request.submissions.count()) == (ClientRequest.Status.STARTED, 0)
    ana = Contact.objects.get(pk=order.client_id)
    assert (ana.channels, ana.phone, ana.delivery_window_start) == ([], "", datetime.time(0))
    assert not PreferenceChange.objects.exists()


def test_the_next_message_after_submitting_waits_for_the_new_hours(
    settings_form: FormTemplate, send_to_client: SendTo, order: Order
) -> None:
    _request, token = send_to_client(settings_form)
    recipient = _recipient(token)
    _answer(recipient, {"from": "09:00", "until": "18:00", "zone": "Europe/Lisbon"})
    late_evening = datetime.datetime(2026, 11, 24, 22, 0, tzinfo=LISBON)
    with time_machine.travel(late_evening, tick=False):
        services.submit_request(recipient)
        ana = Contact.objects.get(pk=order.client_id)
        message = notifications.notify_contact(
            ana, template_event="order.stage_changed", key="after-form", order=order, stage=order.stage
        )
    assert message is not None
    assert message.deliver_after == datetime.datetime(2026, 11, 25, 9, 0, tzinfo=LISBON)
    assert OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.QUEUED).exists()


# --- The pages -----------------------------------------------------------------------------------

HTMX = {"HX-Request": "true"}


def test_staff_map_a_question_and_the_client_answers_it_on_the_page(
    order: Order, rep: User, client: Client, send_to_client: SendTo
) -> None:
    client.force_login(rep)
    form = services.create_form(name="Intake", description="", definition={"questions": []}, by=rep)
    builder = client.get(reverse("client_requests:form-builder", args=[form.pk])).content.decode()
    assert "Saves to the client&#x27;s …" in builder
    add = reverse("client_requests:question-add", args=[form.pk])
    client.post(add, {"type": "single_choice", "label": "How?", "saves_to": "channel"}, headers=HTMX)
    client.post(add, {"type": "short_text", "label": "From", "saves_to": "window_start"}, headers=HTMX)
    refused = client.post(
        add, {"type": "long_text", "label": "Other", "saves_to": "window_start"}, headers=HTMX
    )
    assert "type does not fit" in refused.content.decode()
    form.refresh_from_db()
    questions = form.latest_version.questions
    assert [(q["saves_to"], q.get("choices")) for q in questions] == [
        ("channel", ["E-mail", "Phone call"]),
        ("window_start", None),
    ]

    _request, token = send_to_client(form)
    web = Client()
    page = web.get(reverse("client_requests:respond", args=[token])).content.decode()
    assert 'type="time"' in page
    web.post(
        reverse("client_requests:respond-answer", args=[token, "from"]), {"q-from": "21:00"}, headers=HTMX
    )
    web.post(
        reverse("client_requests:respond-answer", args=[token, "how"]), {"q-how": "Phone call"}, headers=HTMX
    )
    refused_submit = web.post(reverse("client_requests:respond-submit", args=[token]), headers=HTMX)
    assert refused_submit.status_code == 422
    assert "end after they start" in refused_submit.content.decode()
    web.post(reverse("client_requests:respond-answer", args=[token, "from"]), {"q-from": ""}, headers=HTMX)
    assert web.post(reverse("client_requests:respond-submit", args=[token]), headers=HTMX).status_code == 200
    assert Contact.objects.get(pk=order.client_id).channels == ["call", "email"]

    card = client.get(reverse("client_requests:order-requests", args=[order.pk])).content.decode()
    assert "How?" in card
    assert "Phone call" in card
