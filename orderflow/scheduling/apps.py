"""App config for scheduling."""

from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "orderflow.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
