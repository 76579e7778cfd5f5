"""App config for automation."""

from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "orderflow.automation"
    label = "automation"
    verbose_name = "Automation"
