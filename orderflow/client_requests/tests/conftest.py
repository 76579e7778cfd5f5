"""Helpers for client request tests: the seed forms, a request sent to the client, and its link."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from orderflow.accounts.models import Contact, User
from orderflow.client_requests import services
from orderflow.client_requests.models import ClientRequest, FormTemplate
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import Order, Pipeline
from tests.factories import OrderFactory

LINK = re.compile(r"https?://[^\s]+/r/([A-Za-z0-9_-]+)/")


def token_from_outbox(email: str) -> str:
    """The token of the latest request link e-mailed to `email` (the database keeps only its hash)."""
    body = OutboxMessage.objects.filter(recipient=email).order_by("-id").first()
    assert body is not None, f"no e-mail to {email}"
    match = LINK.search(body.body_text)
    assert match, body.body_text
    return match[1]


@pytest.fixture
def starter_forms(rep: User) -> dict[str, FormTemplate]:
    questionnaire, review = services.install_starter_forms(by=rep)
    return {"questionnaire": questionnaire, "review": review}


@pytest.fixture
def order(web_pipeline: Pipeline, client_contact: Contact, rep: User) -> Order:
    return OrderFactory(pipeline=web_pipeline, client=client_contact, by=rep, stage="questionnaire-sent")


SendTo = Callable[..., tuple[ClientRequest, str]]


@pytest.fixture
def send_to_client(order: Order, rep: User) -> SendTo:
    """`send_to_client(form)` → (request, token): the form sent to the order's client."""

    def send(form: FormTemplate, target: Order | None = None, **kwargs: Any) -> tuple[ClientRequest, str]:
        target = target or order
        client = target.client
        request = services.send_request(
            target,
            form=form,
            recipients=[
                services.RecipientSpec(
                    name=client.name, email=client.email, language=client.language, contact=client
                )
            ],
            by=rep,
            **kwargs,
        )
        return request, token_from_outbox(client.email)

    return send
