"""App config for the staff workspace."""

from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "orderflow.backoffice"
    label = "backoffice"
    verbose_name = "Staff workspace"
