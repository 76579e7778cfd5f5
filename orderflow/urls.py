"""Top-level URL map: each app mounts its own URLs under a prefix."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """For load balancers and `orderflow up`'s start-up check: answers without touching the database."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("health/", health, name="health"),
    path("", include("orderflow.accounts.urls")),
    path("django-admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("messages/", include("orderflow.notifications.urls")),
    path("automation/", include("orderflow.automation.urls")),
    path("reports/", include("orderflow.reports.urls")),
    path("", include("orderflow.scheduling.urls")),
    path("", include("orderflow.client_requests.urls")),
    path("", include("orderflow.backoffice.urls")),
]
