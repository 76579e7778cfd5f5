"""Staff forms: the form builder's question and moves editors, sending and editing a request."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import LANGUAGE_NAMES
from orderflow.client_requests.definitions import (
    CHOICE_TYPES,
    DECIDING_TYPES,
    FILE_KINDS,
    PREFERABLE_CHANNELS,
    QuestionType,
    SavesTo,
    channel_choice_label,
)
from orderflow.client_requests.models import FormTemplate
from orderflow.client_requests.services import RecipientSpec
from orderflow.pipelines.models import Order
from orderflow.widgets import DateInput


class FormCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)


class QuestionForm(forms.Form):
    """One question of a form definition; `to_question()` gives its JSON."""

    type = forms.ChoiceField(label=_("Type"), choices=QuestionType.choices)
    label = forms.CharField(label=_("Question"), max_length=300)
    help = forms.CharField(label=_("Help text"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line."),
    )
    min = forms.DecimalField(label=_("Smallest number"), required=False)
    max = forms.DecimalField(label=_("Largest number"), required=False)
    min_length = forms.IntegerField(label=_("Fewest characters"), required=False, min_value=0)
    max_length = forms.IntegerField(label=_("Most characters"), required=False, min_value=1)
    pattern = forms.CharField(
        label=_("Pattern"),
        required=False,
        max_length=200,
        help_text=_("A regular expression the answer must match."),
    )
    scale = forms.IntegerField(label=_("Scale up to"), required=False, min_value=2, max_value=10, initial=5)
    max_files = forms.IntegerField(
        label=_("Most files"), required=False, min_value=1, max_value=20, initial=1
    )
    max_size_mb = forms.IntegerField(
        label=_("Largest file (MB)"), required=False, min_value=1, max_value=50, initial=10
    )
    file_types = forms.MultipleChoiceField(
        label=_("Allowed file types"),
        required=False,
        choices=[(key, label) for key, (_mime, label) in FILE_KINDS.items()],
        widget=forms.CheckboxSelectMultiple,
        initial=["pdf", "png", "jpeg"],
    )
    show_if_question = forms.ChoiceField(label=_("Show only when"), required=False)
    show_if_equals = forms.CharField(label=_("has the answer"), required=False, max_length=200)
    saves_to = forms.ChoiceField(
        label=_("Saves to the client's …"),
        required=False,
        choices=[("", _("nothing (an answer only)")), *SavesTo.choices],
        help_text=_(
            "When the order's own client answers, their message settings take the answer. Preferred "
            "channel or language: a single choice or dropdown (left without choices, it lists the "
            "channels you offer or the languages); phone: a phone question; time zone and contact "
            "hours (like 09:00): short text; “no offers”: yes / no."
        ),
    )

    def __init__(self, *args: Any, earlier: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["show_if_question"]).choices = [("", _("Always show"))] + [
            (q["key"], q["label"]) for q in earlier or [] if q["type"] != QuestionType.INFO
        ]

    @classmethod
    def initial_from(cls, question: dict[str, Any]) -> dict[str, Any]:
        initial = {key: value for key, value in question.items() if key not in {"choices", "show_if"}}
        initial["choices"] = "\n".join(question.get("choices", []))
        if show_if := question.get("show_if"):
            initial["show_if_question"] = show_if["question"]
            initial["show_if_equals"] = show_if["equals"]
        return initial

    def to_question(self) -> dict[str, Any]:
        data = self.cleaned_data
        question: dict[str, Any] = {
            "type": data["type"],
            "label": data["label"],
            "help": data["help"],
            "required": data["required"],
        }
        if data["type"] in CHOICE_TYPES:
            question["choices"] = [line.strip() for line in data["choices"].splitlines() if line.strip()]
            if not question["choices"] and data["saves_to"] == SavesTo.CHANNEL:
                question["choices"] = [channel_choice_label(channel) for channel in offered_channels()]
            if not question["choices"] and data["saves_to"] == SavesTo.LANGUAGE:
                question["choices"] = list(LANGUAGE_NAMES.values())
        if data["saves_to"]:
            question["saves_to"] = data["saves_to"]
        for name in ("min", "max"):
            if data[name] is not None:
                question[name] = str(data[name])
        for name in ("min_length", "max_length", "scale", "max_files", "max_size_mb"):
            if data[name] is not None:
                question[name] = data[name]
        if data["pattern"]:
            question["pattern"] = data["pattern"]
        if data["type"] == QuestionType.FILE:
            question["file_types"] = data["file_types"]
        if data["show_if_question"]:
            question["show_if"] = {"question": data["show_if_question"], "equals": data["show_if_equals"]}
        return question


def offered_channels() -> list[str]:
    """The channels the business offers its clients: e-mail and calls, SMS and messenger while a
    service is configured for them (as on the client's message settings page)."""
    from orderflow.notifications.models import AppriseEndpoint

    configured = set(AppriseEndpoint.objects.filter(is_active=True).values_list("channel", flat=True))
    return [
        channel for channel in PREFERABLE_CHANNELS if channel in {"email", "call"} or channel in configured
    ]


class MovesForm(forms.Form):
    """Which stage the order moves to when the form is submitted, optionally by one choice's answer."""

    on_submit = forms.CharField(
        label=_("When submitted, move the order to"),
        required=False,
        max_length=60,
        help_text=_("A stage key, e.g. questionnaire-received. Empty: don't move."),
    )
    question = forms.ChoiceField(label=_("Or decide by the answer to"), required=False)
    values = forms.CharField(
        label=_("Answer → stage key"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. “Approved = website-approved”."),
    )

    def __init__(
        self,
        *args: Any,
        questions: list[dict[str, Any]] | None = None,
        stage_keys: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = {q["key"]: q for q in questions or []}
        self.stage_keys = stage_keys
        cast(forms.ChoiceField, self.fields["question"]).choices = [("", _("No question"))] + [
            (q["key"], q["label"]) for q in questions or [] if q["type"] in DECIDING_TYPES
        ]

    def _check_stage(self, key: str) -> str:
        key = slugify(key)
        if self.stage_keys is not None and key not in self.stage_keys:
            raise ValidationError(_("There is no stage with the key “%(key)s”.") % {"key": key})
        return key

    def clean_on_submit(self) -> str:
        value = self.cleaned_data["on_submit"].strip()
        return self._check_stage(value) if value else ""

    @classmethod
    def initial_from(cls, moves: dict[str, Any]) -> dict[str, Any]:
        return {
            "on_submit": moves.get("on_submit", ""),
            "question": moves.get("question", ""),
            "values": "\n".join(f"{value} = {stage}" for value, stage in (moves.get("values") or {}).items()),
        }

    def clean_values(self) -> dict[str, str]:
        mapping = {}
        for line in self.cleaned_data["values"].splitlines():
            if not line.strip():
                continue
            value, separator, stage = line.rpartition("=")
            if not separator or not value.strip() or not stage.strip():
                raise ValidationError(_("Write each line as “answer = stage-key”."))
            mapping[value.strip()] = self._check_stage(stage.strip())
        return mapping

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        question = self.questions.get(cleaned.get("question") or "")
        if question is not None:
            answers = (
                ["yes", "no"] if question["type"] == QuestionType.YES_NO else question.get("choices", [])
            )
            for value in cleaned.get("values") or {}:
                if value not in answers:
                    self.add_error(
                        "values",
                        _("“%(value)s” is not an answer to “%(label)s”; the answers are: %(answers)s.")
                        % {"value": value, "label": question["label"], "answers": ", ".join(answers)},
                    )
        return cleaned

    def to_moves(self) -> dict[str, Any]:
        data = self.cleaned_data
        moves: dict[str, Any] = {"on_submit": data["on_submit"].strip()}
        if data["question"]:
            moves["question"] = data["question"]
            moves["values"] = data["values"]
        return moves


class SendRequestForm(forms.Form):
    """Whom to send a request to, with what message and by when."""

    form = forms.ModelChoiceField(label=_("Form"), queryset=FormTemplate.objects.none())
    title = forms.CharField(
        label=_("Title"), max_length=200, required=False, help_text=_("Empty: the form's name.")
    )
    to_client = forms.BooleanField(label=_("The order's client"), required=False, initial=True)
    others = forms.CharField(
        label=_("Other people"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: name, e-mail, language (en, pt or ru), e.g. “Jo Spouse, jo@example.com, pt”."
        ),
    )
    message = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    due_date = forms.DateField(label=_("Answer by"), required=False, widget=DateInput())

    def __init__(self, *args: Any, order: Order, forms_to_send: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        cast(forms.ModelChoiceField, self.fields["form"]).queryset = forms_to_send
        client = order.client
        self.fields["to_client"].label = _("The order's client: %(name)s <%(email)s>") % {
            "name": client.name,
            "email": client.email or _("no e-mail"),
        }

    def clean_others(self) -> list[RecipientSpec]:
        specs = []
        languages = dict(settings.LANGUAGES)
        for line in self.cleaned_data["others"].splitlines():
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(",")]
            if len(parts) < 2:
                raise ValidationError(_("Write each person as “name, e-mail, language”."))
            name, email = parts[0], parts[1]
            language = parts[2] if len(parts) > 2 and parts[2] in languages else "en"
            try:
                validate_email(email)
            except ValidationError:
                raise ValidationError(_("“%(email)s” is not an e-mail address.") % {"email": email}) from None
            specs.append(RecipientSpec(name=name, email=email, language=language))
        return specs

    def recipients(self) -> list[RecipientSpec]:
        specs = list(self.cleaned_data["others"])
        if self.cleaned_data["to_client"]:
            client = self.order.client
            if not client.email:
                raise ValidationError(_("The client has no e-mail address."))
            specs.insert(
                0,
                RecipientSpec(name=client.name, email=client.email, language=client.language, contact=client),
            )
        return specs


class RequestEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    message = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    due_date = forms.DateField(label=_("Answer by"), required=False, widget=DateInput())


class SaveAsTemplateForm(forms.Form):
    name = forms.CharField(label=_("Template name"), max_length=200)
