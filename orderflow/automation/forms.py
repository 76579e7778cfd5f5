"""Forms of the automation pages: a rule or reminder sequence is edited as its YAML definition."""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.utils.translation import gettext_lazy as _

from orderflow.pipelines.models import Pipeline


class DefinitionForm(forms.Form):
    """The pipeline (when creating) and the definition as YAML, the same text a process template holds."""

    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.filter(is_active=True))
    definition = forms.CharField(
        label=_("Definition (YAML)"),
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "mono"}),
        help_text=_("The same text as in a process template's rules or reminders section."),
    )

    def __init__(self, *args: Any, fixed_pipeline: Pipeline | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if fixed_pipeline is not None:
            del self.fields["pipeline"]
        self.fixed_pipeline = fixed_pipeline

    def clean_definition(self) -> Any:
        text = self.cleaned_data["definition"]
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = _("line %(line)s: ") % {"line": mark.line + 1} if mark else ""
            raise forms.ValidationError(
                _("%(where)sthis is not valid YAML (%(problem)s)")
                % {"where": where, "problem": getattr(error, "problem", "") or error}
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(
                _("Write the definition as keys and values, starting with key: and name:")
            )
        return value

    def target_pipeline(self) -> Pipeline:
        return self.fixed_pipeline or self.cleaned_data["pipeline"]


def definition_text(definition: dict[str, Any]) -> str:
    """A definition as the YAML the editor shows (the process template's form)."""
    from orderflow.pipelines.process_io import REMINDER_KEYS, RULE_KEYS, _ordered, _TemplateDumper

    first = RULE_KEYS if "trigger" in definition else REMINDER_KEYS
    return yaml.dump(
        _ordered(definition, first),
        Dumper=_TemplateDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
        indent=2,
    )
