"""App config for automation."""

from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "orderflow.automation"
    label = "automation"
    verbose_name = "Automation"

    def ready(self) -> None:
        # Register the handlers of scheduled jobs (reminder steps, rule actions, inactivity checks).
        from orderflow.automation import actions, engine, reminders  # noqa: F401
