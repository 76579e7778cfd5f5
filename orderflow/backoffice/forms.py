"""Forms of the staff workspace."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import Contact, Language, User
from orderflow.pipelines.models import FieldDefinition, Order, Pipeline, Stage


class OrderCreateForm(forms.Form):
    """A new order, for an existing client or for a new one typed in on the spot."""

    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none(), empty_label=None)
    title = forms.CharField(label=_("Title"), max_length=200)
    client = forms.ModelChoiceField(
        label=_("Existing client"), queryset=Contact.objects.none(), required=False
    )
    new_client_name = forms.CharField(label=_("or a new client: name"), max_length=200, required=False)
    new_client_email = forms.EmailField(label=_("New client's e-mail"), required=False)
    new_client_language = forms.ChoiceField(
        label=_("New client's language"), choices=Language.choices, initial=Language.ENGLISH, required=False
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["client"].queryset = Contact.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["owner"].queryset = User.objects.filter(is_active=True, is_staff=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("client") and not data.get("new_client_name"):
            raise forms.ValidationError(_("Pick an existing client or type a new client's name."))
        if data.get("client") and data.get("new_client_name"):
            raise forms.ValidationError(_("Pick an existing client or type a new one, not both."))
        return data


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
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
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
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldDefinition.Kind.CHOICE:
        choices = [("", "—")] + [(choice, choice) for choice in definition.choices or []]
        return forms.ChoiceField(choices=choices, **common)
    if kind == FieldDefinition.Kind.URL:
        return forms.URLField(assume_scheme="https", **common)
    return forms.CharField(max_length=2000, **common)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.none(), empty_label=None)
    due_at = forms.DateTimeField(
        label=_("Due"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            is_active=True, is_staff=True
        ).order_by("full_name", "email")
