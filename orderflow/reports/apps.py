"""App config for reports."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "orderflow.reports"
    label = "reports"
    verbose_name = "Reports"
