"""Forms of the notification pages: contact preferences (staff's and the client's own), message
templates, log filters and feedback."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import Contact, Language, validate_time_zone
from orderflow.notifications.models import Channel, OutboxMessage
from orderflow.notifications.selectors import ClientChannels
from orderflow.pipelines.models import Order
from orderflow.widgets import TimeInput, TimeZoneInput

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
    window_start = forms.TimeField(label=_("Contact from"), widget=TimeInput())
    window_end = forms.TimeField(
        label=_("Contact until"),
        widget=TimeInput(),
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


ANY_TIME, BETWEEN = "any", "between"
_ORDER_FIELDS = ("first_channel", "second_channel", "third_channel")


class ClientPreferencesForm(forms.Form):
    """The client's own message settings (from the link in our messages): which of the channels the
    business offers to try, in order, which never to use, their hours, days, zone, language and offers.

    The addresses themselves (e-mail, phone, messenger) are not edited here: a forwarded message must
    not let someone else redirect the client's messages. update_contact_preferences does the checking
    and the saving, as for staff.
    """

    first_channel = forms.ChoiceField(label=_("First, try"))
    second_channel = forms.ChoiceField(label=_("If that does not reach you"), required=False)
    third_channel = forms.ChoiceField(label=_("Then"), required=False)
    opted_out_channels = forms.MultipleChoiceField(
        label=_("Never contact me by"), required=False, widget=forms.CheckboxSelectMultiple
    )
    hours = forms.ChoiceField(
        label=_("At what time of day?"),
        choices=[(ANY_TIME, _("Any time")), (BETWEEN, _("Only between certain hours"))],
        widget=forms.RadioSelect,
    )
    window_start = forms.TimeField(label=_("From"), required=False, widget=TimeInput())
    window_end = forms.TimeField(label=_("Until"), required=False, widget=TimeInput())
    days = forms.TypedMultipleChoiceField(
        label=_("On which days?"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one day on which we may contact you.")},
    )
    time_zone = forms.CharField(
        label=_("Your time zone"),
        max_length=64,
        validators=[validate_time_zone],
        help_text=_("Type to search, e.g. Lisbon or Moscow."),
        widget=TimeZoneInput(),
    )
    language = forms.ChoiceField(label=_("Language of our messages"), choices=Language.choices)
    marketing_opt_out = forms.BooleanField(
        label=_("No offers and no requests for feedback, please"),
        required=False,
        help_text=_("You will still hear about your orders."),
    )

    def __init__(self, *args: Any, contact: Contact, offered: ClientChannels, **kwargs: Any) -> None:
        self.contact = contact
        self.offered = offered
        order = [channel for channel in contact.channel_order if channel in offered.usable]
        order += [channel for channel in offered.usable if channel not in order]
        refused = [channel for channel in contact.opted_out_channels or [] if channel in offered.refusable]
        any_time = contact.delivery_window_start == contact.delivery_window_end
        kwargs.setdefault(
            "initial",
            {
                **{name: order[index] for index, name in enumerate(_ORDER_FIELDS) if index < len(order)},
                "opted_out_channels": refused,
                "hours": ANY_TIME if any_time else BETWEEN,
                "window_start": None if any_time else contact.delivery_window_start,
                "window_end": None if any_time else contact.delivery_window_end,
                "days": contact.delivery_days,
                "time_zone": contact.time_zone,
                "language": contact.language,
                "marketing_opt_out": contact.marketing_opt_out,
            },
        )
        super().__init__(*args, **kwargs)
        labels = dict(Channel.choices)
        usable = [(channel, labels[channel]) for channel in offered.usable]
        for index, name in enumerate(_ORDER_FIELDS):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            if index >= len(usable):
                del self.fields[name]  # no third choice when there are two channels
            else:
                field.choices = usable if index == 0 else [*_NO_CHANNEL, *usable]
        refusable = self.fields["opted_out_channels"]
        assert isinstance(refusable, forms.MultipleChoiceField)
        refusable.choices = [(channel, labels[channel]) for channel in offered.refusable]

    @property
    def channel_order_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in _ORDER_FIELDS if name in self.fields]

    @property
    def hours_fields(self) -> list[forms.BoundField]:
        return [self["window_start"], self["window_end"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = [data[name] for name in _ORDER_FIELDS if data.get(name)]
        labels = dict(Channel.choices)
        both = [channel for channel in chosen if channel in (data.get("opted_out_channels") or [])]
        if both:
            self.add_error(
                "opted_out_channels",
                _("You chose %(channel)s above: untick it here, or choose another way above.")
                % {"channel": labels[both[0]]},
            )
        if data.get("hours") == BETWEEN:
            for name in ("window_start", "window_end"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Enter a time, e.g. 09:00."))
        return data

    def service_arguments(self) -> dict[str, Any]:
        """Arguments of update_contact_preferences. Channels the page does not show (the portal, SMS
        while no SMS service is configured) keep their place after the chosen ones, and refusals of
        them stay: the client changes only what they were shown."""
        data = self.cleaned_data
        chosen = list(dict.fromkeys(data[name] for name in _ORDER_FIELDS if data.get(name)))
        current = list(self.contact.channels or [self.contact.preferred_channel, Channel.EMAIL])
        hidden = [
            channel for channel in current if channel not in self.offered.usable and channel not in chosen
        ]
        kept_refusals = [
            channel
            for channel in self.contact.opted_out_channels or []
            if channel not in self.offered.refusable
        ]
        any_time = data["hours"] == ANY_TIME
        midnight = datetime.time(0, 0)
        return {
            "channels": [*chosen, *hidden],
            "opted_out_channels": [*data["opted_out_channels"], *kept_refusals],
            "phone": None,
            "messenger_id": None,
            "window_start": midnight if any_time else data["window_start"],
            "window_end": midnight if any_time else data["window_end"],
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
