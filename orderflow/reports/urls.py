"""URLs of the reports."""

from django.urls import path

from orderflow.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.reports_home, name="home"),
    path("<slug:slug>/", views.pipeline_report, name="pipeline"),
]
