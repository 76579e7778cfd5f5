"""Forms of the staff workspace."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import Contact, Language, User
from orderflow.pipelines.models import Order, Pipeline, Stage


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
