"""Forms of the pipeline settings pages: they parse input; pipelines.configure checks and applies it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import Language
from orderflow.accounts.roles import Role
from orderflow.pipelines.configure import (
    TRANSLATED_LANGUAGES,
    ConfigInputError,
    FieldSettings,
    PipelineSettings,
    StageSettings,
)
from orderflow.pipelines.models import FieldDefinition, Pipeline, Stage
from orderflow.pipelines.process_io import RenameHints

# The roles a stage may name (pipelines.configure.STAGE_ROLES), as Settings shows them.
ROLE_LABELS = {
    Role.ADMIN: _("Admin"),
    Role.MANAGER: _("Manager"),
    Role.REP: _("Rep"),
    Role.CONTRACTOR: _("Contractor on the order"),
}


def show_config_errors(form: forms.Form, error: ConfigInputError) -> None:
    """Put each of the service's messages next to the input it is about (or above the form)."""
    for name, message in error.errors.items():
        form.add_error(name if name in form.fields else None, message)


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.CharField(
        label=_("Short name"),
        max_length=60,
        required=False,
        help_text=_("Lower-case letters, digits and hyphens. Empty: made from the name."),
    )
    number_prefix = forms.CharField(
        label=_("Number prefix"),
        max_length=8,
        help_text=_("Order numbers look like WEB-00042. Fixed once orders are numbered."),
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="EUR", help_text=_("Three letters, e.g. EUR or USD.")
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    @staticmethod
    def initial_for(pipeline: Pipeline) -> dict[str, Any]:
        return {
            name: getattr(pipeline, name)
            for name in ("name", "slug", "number_prefix", "currency", "description")
        }

    def to_settings(self) -> PipelineSettings:
        data = self.cleaned_data
        return PipelineSettings(
            name=data["name"],
            slug=data["slug"],
            number_prefix=data["number_prefix"],
            currency=data["currency"],
            description=data["description"],
        )


class StageForm(forms.Form):
    """A stage's settings. Choices of other stages and of fields come from the view (already loaded)."""

    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("What staff see."))
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        required=False,
        help_text=_("Used by rules and the API. Empty: made from the name."),
    )
    client_label = forms.CharField(
        label=_("Label the client sees"),
        max_length=120,
        required=False,
        help_text=_("Empty: the client sees the name."),
    )
    client_description = forms.CharField(
        label=_("What it means for the client"), max_length=300, required=False
    )
    notify_client = forms.BooleanField(
        label=_("Tell the client"),
        required=False,
        help_text=_("E-mail the client when an order enters this stage."),
    )
    category = forms.ChoiceField(label=_("Category"), choices=Stage.Category.choices)
    color = forms.CharField(
        label=_("Colour"), max_length=7, widget=forms.TextInput(attrs={"type": "color"}), initial="#64748b"
    )
    is_side = forms.BooleanField(
        label=_("Side status"),
        required=False,
        help_text=_("Outside the main path, like On hold; set by hand from any stage."),
    )
    max_days = forms.IntegerField(
        label=_("Maximum days in stage"),
        required=False,
        min_value=1,
        help_text=_("An order here longer is overdue. Empty: no limit."),
    )
    allowed_roles = forms.MultipleChoiceField(
        label=_("Roles that may set it by hand"),
        required=False,
        choices=list(ROLE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "None ticked: every staff role. Contractors only where ticked, on orders assigned to them."
        ),
    )
    allowed_from = forms.MultipleChoiceField(
        label=_("May be entered from"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: from any stage."),
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Fields required to enter"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ticked fields must be filled in before an order may enter."),
    )

    def __init__(
        self,
        *args: Any,
        other_stages: Sequence[Stage],
        fields: Sequence[FieldDefinition],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for code in TRANSLATED_LANGUAGES:
            self.fields[f"client_label_{code}"] = forms.CharField(
                label=_("Client label in %(language)s") % {"language": Language(code).label},
                max_length=120,
                required=False,
            )
        for code in TRANSLATED_LANGUAGES:
            self.fields[f"client_description_{code}"] = forms.CharField(
                label=_("What it means for the client, in %(language)s") % {"language": Language(code).label},
                max_length=300,
                required=False,
            )
        self.fields["allowed_from"].choices = [(stage.key, stage.name) for stage in other_stages]  # type: ignore[attr-defined]
        self.fields["required_fields"].choices = [(field.key, field.label) for field in fields]  # type: ignore[attr-defined]

    def translation_fields(self) -> list[forms.BoundField]:
        return [self[f"client_label_{code}"] for code in TRANSLATED_LANGUAGES]

    def description_translation_fields(self) -> list[forms.BoundField]:
        return [self[f"client_description_{code}"] for code in TRANSLATED_LANGUAGES]

    @staticmethod
    def initial_for(stage: Stage | None) -> dict[str, Any]:
        if stage is None:
            return {"notify_client": True, "category": Stage.Category.OPEN}
        initial: dict[str, Any] = {
            name: getattr(stage, name)
            for name in (
                "name",
                "key",
                "client_label",
                "client_description",
                "notify_client",
                "category",
                "color",
                "is_side",
                "max_days",
                "allowed_roles",
                "allowed_from",
                "required_fields",
            )
        }
        for code in TRANSLATED_LANGUAGES:
            initial[f"client_label_{code}"] = (stage.client_label_translations or {}).get(code, "")
            initial[f"client_description_{code}"] = (stage.client_description_translations or {}).get(
                code, ""
            )
        return initial

    def to_settings(self) -> StageSettings:
        data = self.cleaned_data
        return StageSettings(
            name=data["name"],
            key=data["key"],
            client_label=data["client_label"],
            client_label_translations={code: data[f"client_label_{code}"] for code in TRANSLATED_LANGUAGES},
            client_description=data["client_description"],
            client_description_translations={
                code: data[f"client_description_{code}"] for code in TRANSLATED_LANGUAGES
            },
            category=data["category"],
            color=data["color"],
            is_side=data["is_side"],
            notify_client=data["notify_client"],
            allowed_roles=data["allowed_roles"],
            allowed_from=data["allowed_from"],
            required_fields=data["required_fields"],
            max_days=data["max_days"],
        )


class FieldForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=120)
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        required=False,
        help_text=_("Used by rules, the API and stage requirements. Empty: made from the label."),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=FieldDefinition.Kind.choices)
    is_required = forms.BooleanField(
        label=_("Required"), required=False, help_text=_("Every order of this pipeline must have a value.")
    )
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, for the Choice type."),
    )
    help_text = forms.CharField(
        label=_("Help text"), max_length=300, required=False, help_text=_("Shown under the input.")
    )

    @staticmethod
    def initial_for(field: FieldDefinition | None) -> dict[str, Any]:
        if field is None:
            return {"kind": FieldDefinition.Kind.TEXT}
        return {
            "label": field.label,
            "key": field.key,
            "kind": field.kind,
            "is_required": field.is_required,
            "choices": "\n".join(field.choices or []),
            "help_text": field.help_text,
        }

    def to_settings(self) -> FieldSettings:
        data = self.cleaned_data
        return FieldSettings(
            label=data["label"],
            key=data["key"],
            kind=data["kind"],
            is_required=data["is_required"],
            choices=data["choices"].splitlines(),
            help_text=data["help_text"],
        )


class ReorderForm(forms.Form):
    """The new order of a list, as the ids in order separated by commas (sent by settings.js)."""

    order = forms.CharField(max_length=10_000)

    def clean_order(self) -> list[int]:
        try:
            return [int(part) for part in self.cleaned_data["order"].split(",")]
        except ValueError:
            raise forms.ValidationError(_("The new order could not be read.")) from None


class ShiftForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])

    @property
    def steps(self) -> int:
        return -1 if self.cleaned_data["direction"] == "up" else 1


class StageDeleteForm(forms.Form):
    move_orders_to = forms.ModelChoiceField(
        label=_("Move its orders to"),
        queryset=Stage.objects.none(),
        required=False,
        empty_label=_("Pick a stage"),
    )

    def __init__(self, *args: Any, stage: Stage, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["move_orders_to"].queryset = stage.pipeline.stages.exclude(pk=stage.pk).order_by(  # type: ignore[attr-defined]
            "position", "id"
        )


# At most this size for an uploaded process template: the shipped ones are a few kilobytes.
TEMPLATE_MAX_BYTES = 512 * 1024


class ProcessTemplateUploadForm(forms.Form):
    """A process template file to import, and optional new names (to import a template a second time)."""

    file = forms.FileField(
        label=_("Process template (YAML)"),
        help_text=_("A file exported from Orderflow, or one of the shipped templates."),
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,application/yaml,text/yaml"}),
    )
    name = forms.CharField(
        label=_("Name"), max_length=120, required=False, help_text=_("Empty: the name in the file.")
    )
    slug = forms.CharField(
        label=_("Short name"),
        max_length=60,
        required=False,
        help_text=_("Empty: the short name in the file."),
    )
    number_prefix = forms.CharField(
        label=_("Number prefix"),
        max_length=8,
        required=False,
        help_text=_("Empty: the prefix in the file. Each pipeline needs its own."),
    )

    def clean_file(self) -> str:
        """The file's text; refused when too large or not UTF-8 text."""
        upload = self.cleaned_data["file"]
        if upload.size > TEMPLATE_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large for a process template (at most %(size)d KB).")
                % {"size": TEMPLATE_MAX_BYTES // 1024}
            )
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("The file is not a YAML text file (it should be UTF-8 text).")
            ) from None

    def renames(self) -> dict[str, Any]:
        """import_process_template's options: the names to use instead of the file's (only those given),
        and rename hints that point a taken slug or prefix to this form's inputs, not to the CLI's options."""
        data = self.cleaned_data
        names = {
            "name": data["name"].strip(),
            "slug": data["slug"].strip().lower(),
            "number_prefix": data["number_prefix"].strip().upper(),
        }
        renames: dict[str, Any] = {key: value for key, value in names.items() if value}
        renames["rename_hints"] = self.rename_hints()
        return renames

    def rename_hints(self) -> RenameHints:
        hint = gettext("fill in “%(field)s” below to import it under another one")
        return RenameHints(
            slug=hint % {"field": self.fields["slug"].label},
            number_prefix=hint % {"field": self.fields["number_prefix"].label},
        )
