"""App config for pipelines."""

from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "orderflow.pipelines"
    label = "pipelines"
    verbose_name = "Pipelines and orders"
