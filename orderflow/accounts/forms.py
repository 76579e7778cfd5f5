"""Forms of the accounts app."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import LANGUAGE_NAMES, User
from orderflow.widgets import TimeZoneInput, zone_named


class EmailAuthenticationForm(AuthenticationForm):
    """Login with e-mail and password; e-mail is matched case-insensitively."""

    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean(self) -> dict[str, Any]:
        if self.cleaned_data.get("username"):
            self.cleaned_data["username"] = self.cleaned_data["username"].lower()
        return super().clean()


class AccountForm(forms.Form):
    """A staff member's own name, language and time zone; update_own_account checks and saves them."""

    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=list(LANGUAGE_NAMES.items()),
        help_text=_("For your pages and for the e-mails Orderflow sends you."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        help_text=_("Times on your pages are shown in it. Type to search, e.g. Lisbon or Moscow."),
        widget=TimeZoneInput(),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"full_name": user.full_name, "language": user.language, "time_zone": user.time_zone}
        )
        super().__init__(*args, **kwargs)

    def clean_time_zone(self) -> str:
        """A city typed alone ("Tokyo") is its zone, as the picker completes it with JavaScript."""
        typed: str = self.cleaned_data["time_zone"].strip()
        return zone_named(typed) or typed
