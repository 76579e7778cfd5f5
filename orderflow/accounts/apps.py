"""App config for accounts; creates the role groups after every migrate."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "orderflow.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from orderflow.accounts.roles import ensure_roles_after_migrate

        post_migrate.connect(ensure_roles_after_migrate, dispatch_uid="orderflow.accounts.ensure_roles")
