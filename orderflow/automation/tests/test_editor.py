"""The structured editor of rules and reminder sequences: the same definitions, checks and saves as the text.

The form is exercised as a browser without JavaScript would: what the page renders is what is posted
back (`_form_data` reads the rendered inputs), and the buttons that add, remove and move rows are
posted like any submit button.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import User
from orderflow.accounts.roles import Role
from orderflow.automation.definitions import check_sequence
from orderflow.automation.models import ReminderSequence, Rule
from orderflow.automation.services import rule_definition, save_rule, sequence_definition
from orderflow.client_requests.services import install_starter_forms
from orderflow.pipelines.models import Pipeline
from tests.factories import TEST_PASSWORD, PipelineFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin_client(client: Client) -> Client:
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    client.login(email=admin.email, password=TEST_PASSWORD)
    return client


class _FormReader(HTMLParser):
    """The values a browser would post from the editor's form (without pressing any button)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self.inside = False
        self.select: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form" and found.get("id") == "definition-editor":
            self.inside = True
        if not self.inside or "name" not in found:
            if tag == "option" and self.select and "selected" in found:
                self.add(self.select, found.get("value", ""))
            return
        name = found["name"]
        if tag == "input":
            kind = found.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    self.add(name, found.get("value", "on"))
            elif kind not in ("submit", "button"):
                self.add(name, found.get("value", ""))
        elif tag == "select":
            self.select = name
        elif tag == "textarea":
            self.textarea, self.text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.add(self.textarea, self.text.removeprefix("\n"))  # as browsers read it
            self.textarea = None
        elif tag == "form":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text += data


def _form_data(html: str, **changes: Any) -> dict[str, Any]:
    reader = _FormReader()
    reader.feed(html)
    data: dict[str, Any] = {
        name: values if len(values) > 1 else values[0] for name, values in reader.data.items()
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def _rule_post(pipeline: Pipeline, **extra: Any) -> dict[str, Any]:
    """What the form posts for "when the client submits a request, if stage is Questionnaire Sent: move on
    and create a task", plus `extra`."""
    return {
        "name": "Questionnaire answered",
        "pipeline": pipeline.pk,
        "active": "on",
        "trigger-kind": "request.submitted",
        "condition": ["0"],
        "condition-0-field": "stage",
        "condition-0-op": "equals",
        "condition-0-value": "questionnaire-sent",
        "action": ["0", "1"],
        "action-0-type": "move",
        "action-0-stage": "questionnaire-received",
        "action-1-type": "create_task",
        "action-1-title": "Read the answers of {client_name}",
        "action-1-due_days": "2",
        "change": "",
        **extra,
    }


def test_a_rule_built_with_the_form_is_the_rule_the_same_yaml_saves(
    admin_client: Client, web_pipeline: Pipeline
) -> None:
    posted = _rule_post(
        web_pipeline,
        **{
            "key": "questionnaire-answered",
            "trigger-kind": "stage.inactive",
            "trigger-stage": "questionnaire-sent",
            "trigger-days": "3",
            "condition": ["0", "1", "2"],
            "condition-1-field": "client.language",
            "condition-1-op": "in",
            "condition-1-value": ["pt", "ru"],
            "condition-2-field": "tags",
            "condition-2-op": "contains",
            "condition-2-value": "vip",
            "action": ["0", "1", "2", "3"],
            "action-2-type": "send_email",
            "action-2-to": "owner",
            "action-2-template": "",
            "action-2-subject-en": "Quiet order {order_number}",
            "action-2-body-en": "Nothing for three days.",
            "action-2-subject-pt": "Pedido parado {order_number}",
            "action-2-body-pt": "Nada há três dias.",
            "action-2-subject-ru": "",
            "action-2-body-ru": "",
            "action-3-type": "webhook",
            "action-3-url": "https://hooks.example.com/orderflow",
            "action-3-secret": "s3cret",
            "action-3-timeout": "5",
        },
    )
    response = admin_client.post(reverse("automation:rule-create"), posted)
    assert response.status_code == 302, response.text
    from_form = rule_definition(Rule.objects.get())
    Rule.objects.all().delete()

    text = """key: questionnaire-answered
name: Questionnaire answered
trigger: {kind: stage.inactive, stage: questionnaire-sent, days: 3}
conditions:
  - {field: stage, value: questionnaire-sent}
  - {field: client.language, op: in, value: [pt, ru]}
  - {field: tags, op: contains, value: vip}
actions:
  - {type: move, stage: questionnaire-received}
  - {type: create_task, title: "Read the answers of {client_name}", due_days: 2}
  - type: send_email
    to: owner
    subject: {en: "Quiet order {order_number}", pt: "Pedido parado {order_number}"}
    body: {en: Nothing for three days., pt: Nada há três dias.}
  - {type: webhook, url: "https://hooks.example.com/orderflow", secret: s3cret, timeout: 5}
"""
    response = admin_client.post(
        reverse("automation:rule-create-text"), {"pipeline": web_pipeline.pk, "definition": text}
    )
    assert response.status_code == 302, response.text
    assert rule_definition(Rule.objects.get()) == from_form


def test_a_new_rule_gets_a_key_made_from_its_name(admin_client: Client, web_pipeline: Pipeline) -> None:
    save_rule(
        web_pipeline,
        {
            "key": "questionnaire-answered",
            "name": "Old",
            "trigger": {"kind": "order.created"},
            "actions": [{"type": "add_tag", "tag": "x"}],
        },
    )

    response = admin_client.post(reverse("automation:rule-create"), _rule_post(web_pipeline))

    assert response.status_code == 302
    assert Rule.objects.filter(name="Questionnaire answered").get().key == "questionnaire-answered-2"


def test_a_missing_stage_is_refused_next_to_the_action_and_nothing_is_saved_or_lost(
    admin_client: Client, web_pipeline: Pipeline
) -> None:
    response = admin_client.post(
        reverse("automation:rule-create"), _rule_post(web_pipeline, **{"action-0-stage": "launch"})
    )

    assert response.status_code == 422
    assert not Rule.objects.exists()
    html = response.text
    error = html.split('id="id_action-0-stage_error">', 1)[1].split("</span>", 1)[0]
    assert "&#x27;launch&#x27; is not a stage of “Website project”" in error
    assert 'id="id_action-0-stage" name="action-0-stage" aria-invalid="true"' in html
    assert "Action 1 · Stage:" in html  # the summary says where
    kept = _form_data(html)  # everything typed comes back
    assert kept["name"] == "Questionnaire answered"
    assert kept["action-0-stage"] == "launch"
    assert kept["action-1-title"] == "Read the answers of {client_name}"
    assert kept["condition-0-value"] == "questionnaire-sent"


def test_an_unchosen_stage_is_asked_for_at_its_select(admin_client: Client, web_pipeline: Pipeline) -> None:
    response = admin_client.post(
        reverse("automation:rule-create"),
        _rule_post(
            web_pipeline, **{"trigger-kind": "stage.entered", "trigger-stage": "", "action-0-stage": ""}
        ),
    )

    assert response.status_code == 422
    assert 'id="id_trigger-stage_error">missing; this trigger needs a stage' not in response.text
    assert 'id="id_trigger-stage_error">' in response.text
    assert 'id="id_action-0-stage_error">missing</span>' in response.text
    assert not Rule.objects.exists()


def test_rows_are_added_moved_and_removed_keeping_what_was_typed(
    admin_client: Client, web_pipeline: Pipeline
) -> None:
    url = reverse("automation:rule-create")

    added = admin_client.post(url, _rule_post(web_pipeline, change="add-action"))
    assert added.status_code == 200
    assert added.text.count('data-testid="action-row"') == 3
    data = _form_data(added.text, **{"action-2-type": "add_tag", "change": "refresh"})
    refreshed = admin_client.post(url, data)
    assert 'name="action-2-tag"' in refreshed.text  # the inputs the new type needs

    data = _form_data(refreshed.text, **{"action-2-tag": "answered", "change": "up-action-2"})
    moved = _form_data(admin_client.post(url, data).text)
    assert (moved["action-1-type"], moved["action-1-tag"]) == ("add_tag", "answered")
    assert moved["action-2-title"] == "Read the answers of {client_name}"

    removed = admin_client.post(url, {**moved, "change": "remove-condition-0"})
    assert 'data-testid="condition-row"' not in removed.text
    assert "No conditions" in removed.text
    assert not Rule.objects.exists()  # nothing is saved until Save

    saved = admin_client.post(url, {**_form_data(removed.text), "change": ""})
    assert saved.status_code == 302
    rule = Rule.objects.get()
    assert [action["type"] for action in rule.actions] == ["move", "add_tag", "create_task"]
    assert rule.conditions == []


def test_htmx_gets_the_editor_alone_and_a_redirect_after_saving(
    admin_client: Client, web_pipeline: Pipeline
) -> None:
    url = reverse("automation:rule-create")

    changed = admin_client.post(url, _rule_post(web_pipeline, change="add-condition"), headers=HTMX)
    assert changed.status_code == 200
    assert changed.text.lstrip().startswith("<form")  # no page around it
    refused = admin_client.post(url, _rule_post(web_pipeline, **{"action-0-stage": "x"}), headers=HTMX)
    assert refused.status_code == 422
    saved = admin_client.post(url, _rule_post(web_pipeline), headers=HTMX)

    assert saved.headers["HX-Redirect"] == reverse("automation:home")
    assert Rule.objects.count() == 1


def test_unbuilt_triggers_are_offered_disabled_saying_what_they_wait_for(
    admin_client: Client, web_pipeline: Pipeline
) -> None:
    page = admin_client.get(reverse("automation:rule-create")).text

    assert (
        '<option value="payment.received" disabled>When a payment is received — not yet: waits for payments'
        in page
    )
    assert '<option value="stage.entered">When an order enters a stage</option>' in page


def test_every_shipped_rule_and_sequence_opens_in_the_form_and_saves_unchanged(admin_client: Client) -> None:
    pipeline = PipelineFactory(automation=True)
    rules, sequences = list(pipeline.rules.all()), list(pipeline.reminder_sequences.all())
    assert rules
    assert sequences

    for rule in rules:
        before = rule_definition(rule)
        url = reverse("automation:rule-edit", args=[rule.pk])
        response = admin_client.post(url, _form_data(admin_client.get(url).text, change=""))
        assert response.status_code == 302, (rule.key, response.text[:3000])
        rule.refresh_from_db()
        assert rule_definition(rule) == before, rule.key
    for sequence in sequences:
        before = sequence_definition(sequence)
        url = reverse("automation:sequence-edit", args=[sequence.pk])
        response = admin_client.post(url, _form_data(admin_client.get(url).text, change=""))
        assert response.status_code == 302, (sequence.key, response.text[:3000])
        sequence.refresh_from_db()
        assert sequence_definition(sequence) == before, sequence.key


def test_a_reminder_sequence_is_built_with_the_form(admin_client: Client, web_pipeline: Pipeline) -> None:
    url = reverse("automation:sequence-create")
    page = admin_client.get(url).text
    data = _form_data(
        page,
        **{
            "name": "Review reminders",
            "start": "stage.entered",
            "change": "refresh",
        },
    )
    page = admin_client.post(url, data).text
    assert "Choose…" in page  # the stage is now required
    data = _form_data(
        page,
        **{
            "stage": "initial-design-sent",
            "send_at": "10:30",
            "stops": ["booking.made"],
            "step-0-subject-en": "Your design for {order_number}",
            "step-0-body-en": "Hello {client_name}",
            "step-0-subject-pt": "O seu design",
            "step-0-body-pt": "Olá {client_name}",
            "step-1-subject-en": "Still waiting",
            "step-1-body-en": "Hello again",
            "change": "",
        },
    )
    data.pop("escalate", None)

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.text
    sequence = ReminderSequence.objects.get()
    assert sequence_definition(sequence) == {
        "key": "review-reminders",
        "name": "Review reminders",
        "start": "stage.entered",
        "stage": "initial-design-sent",
        "stops": ["booking.made"],
        "send_at": "10:30",
        "escalate": False,
        "steps": [
            {
                "days": 5,
                "subject": {"en": "Your design for {order_number}", "pt": "O seu design"},
                "body": {"en": "Hello {client_name}", "pt": "Olá {client_name}"},
            },
            {"days": 10, "subject": {"en": "Still waiting"}, "body": {"en": "Hello again"}},
        ],
    }


def test_reminders_can_be_limited_to_requests_from_one_library_form(
    admin_client: Client, web_pipeline: Pipeline
) -> None:
    install_starter_forms(by=None)
    url = reverse("automation:sequence-create")
    page = admin_client.get(url).text
    assert '<option value="Website questionnaire">Website questionnaire</option>' in page
    data = _form_data(
        page,
        **{
            "name": "Questionnaire only",
            "form": "Website questionnaire",
            "step-0-subject-en": "Your questionnaire",
            "step-0-body-en": "Hello {client_name}",
            "step-1-subject-en": "Still waiting",
            "step-1-body-en": "Hello again",
            "change": "",
        },
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.text
    assert ReminderSequence.objects.get().start_form == "Website questionnaire"
    page = admin_client.get(
        reverse("automation:sequence-edit", args=[ReminderSequence.objects.get().pk])
    ).text
    assert '<option value="Website questionnaire" selected>Website questionnaire</option>' in page


@pytest.mark.parametrize(
    ("start", "form", "problem"),
    [
        ("request.sent", "Tax organiser", "there is no request form called “Tax organiser” in the library"),
        ("booking.invited", "Website questionnaire", "only reminders started by a request"),
    ],
)
def test_a_sequence_naming_a_missing_form_or_a_form_for_calls_cannot_be_saved(
    web_pipeline: Pipeline, start: str, form: str, problem: str
) -> None:
    install_starter_forms(by=None)
    definition = {
        "key": "limited",
        "name": "Limited",
        "start": start,
        "form": form,
        "steps": [{"days": 5, "subject": {"en": "Hello"}, "body": {"en": "Hello"}}],
    }

    _cleaned, problems = check_sequence(definition, pipeline=web_pipeline)

    assert [path for path, message in problems if problem in message] == ["form"], problems


def test_a_reminder_without_english_or_in_the_wrong_order_is_refused_at_its_step(
    admin_client: Client, web_pipeline: Pipeline
) -> None:
    url = reverse("automation:sequence-create")
    data = _form_data(
        admin_client.get(url).text,
        **{
            "name": "Questionnaire",
            "step-0-subject-en": "",
            "step-0-body-en": "Hello",
            "step-1-days": "3",
            "step-1-subject-en": "Again",
            "step-1-body-en": "Hello again",
            "change": "",
        },
    )

    response = admin_client.post(url, data)

    assert response.status_code == 422
    assert 'id="id_step-0-subject-en_error">missing</span>' in response.text
    assert "each step comes after the one before" in response.text.split('id="id_step-1-days_error">')[1]
    assert not ReminderSequence.objects.exists()
    added = admin_client.post(url, {**_form_data(response.text), "change": "add-step"})
    assert added.text.count('data-testid="step-row"') == 3


def test_the_yaml_editor_stays_as_edit_as_text_for_the_same_rule(
    admin_client: Client, web_pipeline: Pipeline
) -> None:
    admin_client.post(reverse("automation:rule-create"), _rule_post(web_pipeline))
    rule = Rule.objects.get()
    form_page = admin_client.get(reverse("automation:rule-edit", args=[rule.pk])).text
    text_url = reverse("automation:rule-edit-text", args=[rule.pk])
    assert f'href="{text_url}"' in form_page

    text_page = admin_client.get(text_url).text

    assert "kind: request.submitted" in text_page
    assert f'href="{reverse("automation:rule-edit", args=[rule.pk])}"' in text_page


def test_the_automation_page_lists_rules_in_plain_words(admin_client: Client, web_pipeline: Pipeline) -> None:
    admin_client.post(reverse("automation:rule-create"), _rule_post(web_pipeline))

    page = admin_client.get(reverse("automation:home")).text

    assert (
        "When the client submits a request, if stage is “Questionnaire Sent”: move to “Questionnaire Received”, "
        "create the task “Read the answers of {client_name}”"
    ) in page


@pytest.mark.parametrize("role", [Role.REP, Role.CONTRACTOR, Role.CLIENT])
def test_only_people_who_may_change_pipelines_reach_the_editors(
    client: Client, web_pipeline: Pipeline, role: str
) -> None:
    rule = save_rule(
        web_pipeline,
        {
            "key": "x",
            "name": "X",
            "trigger": {"kind": "order.created"},
            "actions": [{"type": "add_tag", "tag": "x"}],
        },
    )
    user: User = UserFactory(role=role, email=f"{role}@example.com")
    client.login(email=user.email, password=TEST_PASSWORD)
    urls = [
        reverse("automation:rule-create"),
        reverse("automation:rule-edit", args=[rule.pk]),
        reverse("automation:rule-edit-text", args=[rule.pk]),
        reverse("automation:rule-create-text"),
        reverse("automation:sequence-create"),
        reverse("automation:sequence-create-text"),
    ]

    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, _rule_post(web_pipeline, name="Taken over")).status_code == 403, url
    rule.refresh_from_db()
    assert rule.name == "X"
    assert Rule.objects.count() == 1


def test_a_visitor_is_sent_to_log_in(client: Client, web_pipeline: Pipeline) -> None:
    response = client.post(reverse("automation:rule-create"), _rule_post(web_pipeline))

    assert response.status_code == 302
    assert "/accounts/login/" in response.headers["Location"]
    assert not Rule.objects.exists()
