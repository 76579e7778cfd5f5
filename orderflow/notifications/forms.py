"""Forms of the notification pages: contact preferences, message templates, log filters."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import Contact, Language, validate_time_zone
from orderflow.notifications.models import Channel, OutboxMessage
from orderflow.pipelines.models import Order

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
_NO_CHANNEL = [("", _("— none —"))]


class ContactPreferencesForm(forms.Form):
    """Parses the page; update_contact_preferences does the checking and the saving."""

    first_channel = forms.ChoiceField(label=_("First choice"), choices=Channel.choices)
    second_channel = forms.ChoiceField(
        label=_("If that fails"), choices=_NO_CHANNEL + Channel.choices, required=False
    )
    third_channel = forms.ChoiceField(label=_("Then"), choices=_NO_CHANNEL + Channel.choices, required=False)
    opted_out_channels = forms.MultipleChoiceField(
        label=_("Never use"), choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=40,
        help_text=_("International form, e.g. +351 912 345 678."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    messenger_id = forms.CharField(label=_("Messenger address"), required=False, max_length=120)
    window_start = forms.TimeField(label=_("Contact from"), widget=forms.TimeInput(attrs={"type": "time"}))
    window_end = forms.TimeField(
        label=_("Contact until"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("The same time as the start means any time of day."),
    )
    days = forms.TypedMultipleChoiceField(
        label=_("On these days"), choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, validators=[validate_time_zone])
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    marketing_opt_out = forms.BooleanField(label=_("No offers or upsell messages"), required=False)

    @classmethod
    def for_contact(cls, contact: Contact, data: Any = None) -> ContactPreferencesForm:
        order = contact.channel_order or [Channel.EMAIL]
        initial = {
            "first_channel": order[0],
            "second_channel": order[1] if len(order) > 1 else "",
            "third_channel": order[2] if len(order) > 2 else "",
            "opted_out_channels": contact.opted_out_channels,
            "phone": contact.phone,
            "messenger_id": contact.messenger_id,
            "window_start": contact.delivery_window_start,
            "window_end": contact.delivery_window_end,
            "days": contact.delivery_days,
            "time_zone": contact.time_zone,
            "language": contact.language,
            "marketing_opt_out": contact.marketing_opt_out,
        }
        return cls(data, initial=initial)

    def channels(self) -> list[str]:
        data = self.cleaned_data
        return [data[name] for name in ("first_channel", "second_channel", "third_channel") if data.get(name)]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        window_start: datetime.time = data["window_start"]
        window_end: datetime.time = data["window_end"]
        return {
            "channels": self.channels(),
            "opted_out_channels": data["opted_out_channels"],
            "phone": data["phone"],
            "messenger_id": data["messenger_id"],
            "window_start": window_start,
            "window_end": window_end,
            "days": data["days"],
            "time_zone": data["time_zone"],
            "language": data["language"],
            "marketing_opt_out": data["marketing_opt_out"],
        }


class MessageTemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject or title"), max_length=300, required=False)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 12}))
    upsell = forms.CharField(
        label=_("Offer (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Appears where the text has {{ upsell }}, e.g. a maintenance plan. Clients who do not "
            "want offers, or unsubscribed, never see it."
        ),
    )
    preview_order = forms.TypedChoiceField(label=_("Preview with order"), coerce=int, required=False)

    def __init__(self, *args: Any, orders: list[Order], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["preview_order"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [
            (order.pk, f"{order.reference} · {order.title} · {order.client.name}") for order in orders
        ]


class LogFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("", _("Any status")),
            ("failing", _("Failing, still trying")),
            *OutboxMessage.Status.choices,
        ],
        required=False,
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("Any channel")), *Channel.choices], required=False
    )
    q = forms.CharField(label=_("Recipient or subject"), required=False, max_length=200)


RATINGS = [(rating, str(rating)) for rating in range(1, 6)]


class FeedbackForm(forms.Form):
    """The client's answer; submit_feedback checks it again (the rule lives in the service)."""

    rating = forms.TypedChoiceField(
        label=_("How would you rate our work?"),
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class FeedbackReportForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=[("", _("Any rating")), *RATINGS],
        coerce=int,
        required=False,
        empty_value=None,
    )
