"""App config for the staff workspace."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "orderflow.backoffice"
    label = "backoffice"
    verbose_name = "Staff workspace"

    def ready(self) -> None:
        from django.db.models import fields

        # The empty choice of every select made from a model field. Django 6.1's own wording,
        # "- Select an option -", has no Portuguese or Russian yet, so Russian pages showed it in
        # English; this one is in our catalogues. Django reads the name each time it builds choices.
        fields.BLANK_CHOICE_LABEL = _("Choose…")
