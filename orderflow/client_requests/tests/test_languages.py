"""The starter forms in Portuguese and Russian: each recipient reads their language, the moves still work."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import Contact, User
from orderflow.client_requests import services
from orderflow.client_requests.models import ClientRequest, FormTemplate
from orderflow.client_requests.services.forms import _english_only
from orderflow.client_requests.starter_forms import DESIGN_APPROVAL, WEBSITE_QUESTIONNAIRE
from orderflow.client_requests.tests.conftest import SendTo, token_from_outbox
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import Order
from orderflow.pipelines.services import move_order
from tests.factories import ContactFactory, OrderFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _value_shown_as(page: str, key: str, words: str) -> str:
    """The value of the choice of question `key` that the page shows as `words`."""
    match = re.search(rf'name="q-{key}" value="([^"]+)"\s*(?:checked)?>\s*{re.escape(words)}</label>', page)
    assert match, f"no choice shown as {words!r}"
    return match[1]


@pytest.fixture
def design_sent_order(web_pipeline: object, rep: User) -> Order:
    order: Order = OrderFactory(pipeline=web_pipeline, client=ContactFactory(email="c@example.com"), by=rep)
    for key in (
        "questionnaire-sent",
        "questionnaire-received",
        "followup-call-scheduled",
        "initial-design-in-production",
        "initial-design-sent",
    ):
        move_order(order, order.pipeline.stages.get(key=key), by=rep)
    return order


def test_a_portuguese_client_gets_the_questionnaire_in_portuguese(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, client_contact: Contact
) -> None:
    client_contact.language = "pt"
    client_contact.save(update_fields=["language"])
    request, token = send_to_client(starter_forms["questionnaire"])
    mail = OutboxMessage.objects.get(recipient=client_contact.email)
    assert "Questionário do site" in mail.subject
    assert "Questionário do site" in mail.body_text
    page = Client().get(reverse("client_requests:respond", args=[token])).content.decode()
    assert "<h1>Questionário do site</h1>" in page
    for words in (
        "Nome do negócio",
        "O que faz o seu negócio?",
        "Qual é o domínio?",
        "Por exemplo padaria.pt",
    ):
        assert words in page
    assert "Business name" not in page
    modern = _value_shown_as(page, "style", "Moderno")
    assert modern == "Modern"
    web = Client()
    web.post(
        reverse("client_requests:respond-answer", args=[token, "style"]), {"q-style": modern}, headers=HTMX
    )
    assert request.answers.get(question_key="style").value == "Modern"


def test_a_custom_title_is_kept_as_typed_in_every_language(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, client_contact: Contact
) -> None:
    client_contact.language = "ru"
    client_contact.save(update_fields=["language"])
    _request, token = send_to_client(starter_forms["questionnaire"], title="Анкета для пекарни")
    page = Client().get(reverse("client_requests:respond", args=[token])).content.decode()
    assert "<h1>Анкета для пекарни</h1>" in page
    assert "Название компании" in page


@pytest.mark.parametrize(
    ("language", "words", "stage", "shown_after"),
    [
        ("pt", "Aprovado", "website-approved", "Aprovado"),
        ("pt", "Pedir alterações", "revisions-submitted", "Pedir alterações"),
        ("ru", "Утверждаю", "website-approved", "Утверждаю"),
        ("ru", "Нужны правки", "revisions-submitted", "Нужны правки"),
    ],
)
def test_the_design_review_moves_the_order_whatever_language_it_was_answered_in(
    starter_forms: dict[str, FormTemplate],
    design_sent_order: Order,
    rep: User,
    language: str,
    words: str,
    stage: str,
    shown_after: str,
) -> None:
    services.send_request(
        design_sent_order,
        form=starter_forms["review"],
        recipients=[services.RecipientSpec(name="Client", email="c@example.com", language=language)],
        by=rep,
    )
    token = token_from_outbox("c@example.com")
    web = Client()
    page = web.get(reverse("client_requests:respond", args=[token])).content.decode()
    decision = _value_shown_as(page, "decision", words)
    saved = web.post(
        reverse("client_requests:respond-answer", args=[token, "decision"]),
        {"q-decision": decision},
        headers=HTMX,
    )
    assert saved.status_code == 200
    if stage == "revisions-submitted":
        # The follow-up question shows for the translated choice too, in the reader's language.
        assert (
            "O que devemos mudar?" if language == "pt" else "Что нужно изменить?"
        ) in saved.content.decode()
        web.post(
            reverse("client_requests:respond-answer", args=[token, "revisions"]),
            {"q-revisions": "Логотип больше / logótipo maior"},
            headers=HTMX,
        )
    assert web.post(reverse("client_requests:respond-submit", args=[token]), headers=HTMX).status_code == 200
    design_sent_order.refresh_from_db()
    assert design_sent_order.stage.key == stage
    read_only = web.get(reverse("client_requests:respond", args=[token])).content.decode()
    assert f"<dd>{shown_after}</dd>" in read_only


def test_staff_preview_a_starter_form_in_each_language(
    starter_forms: dict[str, FormTemplate], rep: User, client: Client
) -> None:
    client.force_login(rep)
    url = reverse("client_requests:form-preview", args=[starter_forms["review"].pk])
    as_written = client.get(url).content.decode()
    russian = client.get(url, {"language": "ru"}).content.decode()
    assert "Your decision" in as_written
    assert 'href="?language=pt"' in as_written
    assert "<h1>Согласование дизайна</h1>" in russian
    assert "Ваше решение" in russian
    assert "Your decision" not in russian
    assert "Your decision" in client.get(url, {"language": "de"}).content.decode()


def test_adding_the_starters_again_translates_an_untouched_english_only_one(rep: User) -> None:
    untouched = services.create_form(
        name=WEBSITE_QUESTIONNAIRE["name"],
        by=rep,
        definition=_english_only(WEBSITE_QUESTIONNAIRE["definition"]),
    )
    edited_definition = _english_only(DESIGN_APPROVAL["definition"])
    edited_definition["questions"][2]["label"] = "Your rating"
    edited = services.create_form(name=DESIGN_APPROVAL["name"], by=rep, definition=edited_definition)

    assert services.install_starter_forms(by=rep) == [untouched, edited]

    untouched = FormTemplate.objects.get(pk=untouched.pk)
    assert untouched.latest_version.definition["translations"]["pt"] == {"title": "Questionário do site"}
    assert untouched.latest_version.questions[1]["translations"]["ru"] == {"label": "Название компании"}
    edited = FormTemplate.objects.get(pk=edited.pk)
    assert "translations" not in edited.latest_version.questions[0]  # staff's own edits are left alone
    assert FormTemplate.objects.count() == 2


def test_editing_a_question_keeps_the_untouched_translations_and_renamed_choices_keep_their_moves(
    starter_forms: dict[str, FormTemplate], rep: User
) -> None:
    form = starter_forms["review"]
    decision = form.latest_version.questions[0]
    services.replace_question(
        form,
        "decision",
        {
            "type": "single_choice",
            "label": decision["label"],
            "required": True,
            "choices": ["Approve", "Changes"],
        },
        by=rep,
    )
    form = FormTemplate.objects.get(pk=form.pk)
    decision, revisions, _rating = form.latest_version.questions
    # The label did not change, so its translations stay; the choices did, so theirs go.
    assert decision["translations"] == {"pt": {"label": "A sua decisão"}, "ru": {"label": "Ваше решение"}}
    assert revisions["show_if"] == {"question": "decision", "equals": "Changes"}
    assert form.latest_version.moves["values"] == {
        "Approve": "website-approved",
        "Changes": "revisions-submitted",
    }


def test_a_request_already_sent_keeps_its_wording_when_the_library_form_changes(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, rep: User
) -> None:
    request, _token = send_to_client(starter_forms["review"])
    services.replace_question(
        starter_forms["review"], "rating", {"type": "rating", "label": "Rate us", "scale": 10}, by=rep
    )
    request = ClientRequest.objects.get(pk=request.pk)
    assert request.form_version.questions[2]["translations"]["pt"]["label"].startswith("Até agora")
