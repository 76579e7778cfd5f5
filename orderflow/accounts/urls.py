"""Login and logout for everyone who has an account."""

from django.contrib.auth import views as auth_views
from django.urls import path

from orderflow.accounts.forms import EmailAuthenticationForm
from orderflow.accounts.views import LoginView

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=EmailAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
