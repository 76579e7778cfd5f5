"""Login and logout for everyone who has an account; a staff member's own account page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from orderflow.accounts.forms import EmailAuthenticationForm
from orderflow.accounts.views import LoginView, PasswordChangeView, account

app_name = "accounts"

urlpatterns = [
    path(
        "accounts/login/",
        LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=EmailAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", account, name="profile"),
    path("account/password/", PasswordChangeView.as_view(), name="password-change"),
]
