"""Forms of the staff workspace."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orderflow.accounts.models import Contact, Language, User
from orderflow.accounts.services import ContactDetails
from orderflow.pipelines.models import FieldDefinition, Order, Pipeline, Stage
from orderflow.widgets import DateInput, DateTimeInput


class ContactPickField(forms.IntegerField):
    """A contact chosen in the picker (a radio button named after the field), as the Contact itself.

    The picker lists at most a page of matches, so the form never renders every contact; this field
    only looks up the one chosen. `kind` narrows what may be chosen (e.g. companies only).
    """

    def __init__(self, *args: Any, kind: str = "", **kwargs: Any) -> None:
        self.kind = kind
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> Contact | None:
        number = super().clean(value)
        if number is None:
            return None
        contacts = Contact.objects.filter(kind=self.kind) if self.kind else Contact.objects.all()
        contact = contacts.filter(pk=number).first()
        if contact is None:
            raise forms.ValidationError(_("That contact no longer exists; search again."))
        return contact


def time_zone_names() -> list[str]:
    """Every IANA zone name, sorted, for the time zone input's suggestions."""
    return sorted(zoneinfo.available_timezones())


class ContactForm(forms.Form):
    """A client person or company with how to reach them; accounts.services checks and saves it."""

    kind = forms.ChoiceField(
        label=_("This contact is"), choices=Contact.Kind.choices, widget=forms.RadioSelect, initial="person"
    )
    name = forms.CharField(label=pgettext_lazy("a person's or a company's", "Name"), max_length=200)
    company = ContactPickField(label=_("Company"), required=False, kind=Contact.Kind.COMPANY)
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("In international form, e.g. +351 912 345 678."),
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    messenger_id = forms.CharField(
        label=_("Messenger address"),
        max_length=120,
        required=False,
        help_text=_("The client's chat id or user name on the messenger the business uses."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices, initial=Language.ENGLISH)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        help_text=_("Where the client lives, e.g. Europe/Lisbon: messages respect their hours."),
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )
    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"), choices=Contact.Channel.choices, initial=Contact.Channel.EMAIL
    )

    @staticmethod
    def initial_for(contact: Contact | None, *, default_time_zone: str) -> dict[str, Any]:
        if contact is None:
            return {"kind": Contact.Kind.PERSON, "time_zone": default_time_zone}
        return {
            "kind": contact.kind,
            "name": contact.name,
            "company": contact.company_id,
            "email": contact.email,
            "phone": contact.phone,
            "messenger_id": contact.messenger_id,
            "language": contact.language,
            "time_zone": contact.time_zone,
            "preferred_channel": contact.preferred_channel,
        }

    def to_details(self) -> ContactDetails:
        data = self.cleaned_data
        return ContactDetails(
            name=data["name"],
            kind=data["kind"],
            company=data["company"] if data["kind"] == Contact.Kind.PERSON else None,
            email=data["email"],
            phone=data["phone"],
            messenger_id=data["messenger_id"],
            language=data["language"],
            time_zone=data["time_zone"],
            preferred_channel=data["preferred_channel"],
        )


# The new-client inputs of the order form, by the ContactDetails attribute each one fills.
NEW_CLIENT_FIELDS = {
    "name": "new_client_name",
    "kind": "new_client_kind",
    "email": "new_client_email",
    "phone": "new_client_phone",
    "language": "new_client_language",
    "time_zone": "new_client_time_zone",
    "preferred_channel": "new_client_preferred_channel",
}


class OrderCreateForm(forms.Form):
    """A new order, for a client found with the picker or for a new one typed in on the spot."""

    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none(), empty_label=None)
    title = forms.CharField(label=_("Title"), max_length=200)
    client = ContactPickField(label=_("Existing client"), required=False)
    new_client_name = forms.CharField(label=_("or a new client: name"), max_length=200, required=False)
    new_client_kind = forms.ChoiceField(
        label=_("New client is"), choices=Contact.Kind.choices, initial=Contact.Kind.PERSON, required=False
    )
    new_client_email = forms.CharField(
        label=_("New client's e-mail"), max_length=254, required=False, widget=forms.EmailInput
    )
    new_client_phone = forms.CharField(
        label=_("New client's phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    new_client_language = forms.ChoiceField(
        label=_("New client's language"), choices=Language.choices, initial=Language.ENGLISH, required=False
    )
    new_client_time_zone = forms.CharField(
        label=_("New client's time zone"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )
    new_client_preferred_channel = forms.ChoiceField(
        label=_("New client's preferred channel"),
        choices=Contact.Channel.choices,
        initial=Contact.Channel.EMAIL,
        required=False,
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, default_time_zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_time_zone = default_time_zone
        self.fields["new_client_time_zone"].initial = default_time_zone
        self.fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["owner"].queryset = User.objects.filter(is_active=True, is_staff=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("client") and not data.get("new_client_name") and "client" not in self.errors:
            raise forms.ValidationError(_("Pick an existing client or type a new client's name."))
        if data.get("client") and data.get("new_client_name"):
            raise forms.ValidationError(_("Pick an existing client or type a new one, not both."))
        return data

    def new_client_details(self) -> ContactDetails:
        data = self.cleaned_data
        return ContactDetails(
            name=data["new_client_name"],
            kind=data["new_client_kind"] or Contact.Kind.PERSON,
            email=data["new_client_email"],
            phone=data["new_client_phone"],
            language=data["new_client_language"] or Language.ENGLISH,
            time_zone=data["new_client_time_zone"] or self.default_time_zone,
            preferred_channel=data["new_client_preferred_channel"] or Contact.Channel.EMAIL,
        )


class MoveOrderForm(forms.Form):
    stage = forms.ModelChoiceField(label=_("Move to"), queryset=Stage.objects.none(), empty_label=None)
    reason = forms.CharField(label=_("Reason (optional)"), max_length=500, required=False)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any stage of the order's pipeline; the service refuses the current one with a clear reason.
        stages = order.pipeline.stages.order_by("is_side", "position", "id")
        self.fields["stage"].queryset = stages  # type: ignore[attr-defined]
        # Most moves go one step forward along the main path: offer that first.
        following = stages.filter(is_side=False, position__gt=order.stage.position).first()
        if following is not None and not self.is_bound:
            self.initial.setdefault("stage", following.pk)


FIELD_PREFIX = "field__"


class OrderDetailsForm(forms.Form):
    """The editable details of an order, with one form field per custom field of its pipeline."""

    title = forms.CharField(label=_("Title"), max_length=200)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    value = forms.DecimalField(label=_("Value"), max_digits=14, decimal_places=2, min_value=0, required=False)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput())
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=500, help_text=_("Separate tags with commas.")
    )
    watchers = forms.ModelMultipleChoiceField(
        label=_("Watchers"), queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        staff = User.objects.filter(is_active=True, is_staff=True).order_by("full_name", "email")
        self.fields["owner"].queryset = staff  # type: ignore[attr-defined]
        self.fields["watchers"].queryset = staff  # type: ignore[attr-defined]
        self.fields["value"].label = _("Value (%(currency)s)") % {"currency": order.pipeline.currency}
        self.definitions = list(order.pipeline.fields.all())
        for definition in self.definitions:
            self.fields[FIELD_PREFIX + definition.key] = _custom_form_field(
                definition, order.pipeline.currency
            )
        if not self.is_bound:
            self.initial.update(
                {
                    "title": order.title,
                    "owner": order.owner_id,
                    "value": order.value,
                    "due_date": order.due_date,
                    "tags": ", ".join(tag.name for tag in order.tags.all()),
                    "watchers": [user.pk for user in order.watchers.all()],
                }
            )
            for definition in self.definitions:
                stored = (order.fields or {}).get(definition.key)
                if isinstance(stored, dict):
                    stored = stored.get("amount")
                self.initial[FIELD_PREFIX + definition.key] = stored

    def custom_fields(self) -> list[forms.BoundField]:
        return [self[FIELD_PREFIX + definition.key] for definition in self.definitions]

    def standard_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("title", "owner", "value", "due_date", "tags", "watchers")]

    def field_values(self) -> dict[str, Any]:
        """Custom field values in the shape pipelines.custom_fields expects."""
        values: dict[str, Any] = {}
        for definition in self.definitions:
            value = self.cleaned_data.get(FIELD_PREFIX + definition.key)
            if definition.kind == FieldDefinition.Kind.MONEY and value is not None:
                value = {"amount": value, "currency": self.order.pipeline.currency}
            values[definition.key] = value
        return values

    def tag_names(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data.get("tags", "").split(",") if name.strip()]


def _custom_form_field(definition: FieldDefinition, currency: str) -> forms.Field:
    common: dict[str, Any] = {"label": definition.label, "required": False, "help_text": definition.help_text}
    kind = definition.kind
    if kind == FieldDefinition.Kind.NUMBER:
        return forms.DecimalField(**common)
    if kind == FieldDefinition.Kind.MONEY:
        common["label"] = f"{definition.label} ({currency})"
        return forms.DecimalField(min_value=0, decimal_places=2, **common)
    if kind == FieldDefinition.Kind.DATE:
        return forms.DateField(widget=DateInput(), **common)
    if kind == FieldDefinition.Kind.CHOICE:
        choices = [("", "—")] + [(choice, choice) for choice in definition.choices or []]
        return forms.ChoiceField(choices=choices, **common)
    if kind == FieldDefinition.Kind.URL:
        return forms.URLField(assume_scheme="https", **common)
    return forms.CharField(max_length=2000, **common)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.none(), empty_label=None)
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DateTimeInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            is_active=True, is_staff=True
        ).order_by("full_name", "email")
