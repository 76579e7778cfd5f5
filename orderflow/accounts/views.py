"""Login, and a staff member's own account: name, language, time zone and password."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _

from orderflow.accounts.forms import AccountForm
from orderflow.accounts.models import User
from orderflow.accounts.services import AccountSettingsError, update_own_account
from orderflow.widgets import time_zone_names


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """Make `language` the one of the person's pages, as Django's own `set_language` does: LocaleMiddleware
    reads the cookie on every later request instead of the browser's language."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class LoginView(auth_views.LoginView):
    """Django's login; a staff member's language (`User.language`, which their e-mails are already
    in) is then the one their pages use (the language cookie), instead of the browser's language."""

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if user.is_staff and user.language in dict(settings.LANGUAGES):
            set_language_cookie(response, user.language)
        return response


def _refuse_outsiders(request: HttpRequest) -> None:
    """Only staff have pages yet; a client or contractor logged in is refused as on every staff page."""
    if not request.user.is_staff:
        raise PermissionDenied


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The logged-in staff member's own name, language and time zone. Saved, the page answers at once
    in the new language (the cookie) and shows times in the new zone (the user_time_zone middleware)."""
    _refuse_outsiders(request)
    user: User = request.user  # type: ignore[assignment]
    form = AccountForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                update_own_account(user, **form.cleaned_data)
            except AccountSettingsError as error:
                for field, message in error.errors.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                with translation.override(user.language):
                    messages.success(request, _("Saved."))
                response = redirect("accounts:profile")
                set_language_cookie(response, user.language)
                return response
    return render(request, "accounts/account.html", {"form": form, "zones": time_zone_names()}, status=status)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's own password change (old password, new one twice, its validators); the session stays
    logged in (Django updates the session's hash), and the account page says it is done."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            _refuse_outsiders(request)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is changed. Use the new one next time you log in."))
        return response

    def form_invalid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 422
        return response
