"""App config for client requests."""

from django.apps import AppConfig


class ClientRequestsConfig(AppConfig):
    name = "orderflow.client_requests"
    label = "client_requests"
    verbose_name = "Client requests"
