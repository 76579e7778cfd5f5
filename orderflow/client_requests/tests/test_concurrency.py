"""Races on PostgreSQL: two tabs autosaving at once, and two submits at once (double click, two devices)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from orderflow.client_requests import selectors, services
from orderflow.client_requests.models import Answer, FormTemplate, Submission
from orderflow.client_requests.tests.conftest import SendTo
from orderflow.pipelines.models import Order, OrderEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _at_once(*actions: Callable[[], object]) -> list[str]:
    """Run the actions in threads released together; what each did ("ok" or its error)."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            action()
            outcomes.append("ok")
        except Exception as error:
            outcomes.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_two_tabs_autosaving_different_fields_at_once_lose_nothing(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, attempt: int
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])

    def save(key: str, value: str) -> Callable[[], object]:
        return lambda: services.save_answer(selectors.recipient_for_token(token), key, value)  # type: ignore[arg-type]

    outcomes = _at_once(
        save("business-name", "Bolos"), save("description", "Cakes"), save("contact-email", "a@bolos.pt")
    )
    assert outcomes == ["ok", "ok", "ok"]
    assert dict(Answer.objects.filter(request=request).values_list("question_key", "value")) == {
        "business-name": "Bolos",
        "description": "Cakes",
        "contact-email": "a@bolos.pt",
    }


@pytest.mark.parametrize("attempt", range(3))
def test_two_submits_at_once_make_one_submission_and_one_move(
    starter_forms: dict[str, FormTemplate], send_to_client: SendTo, order: Order, attempt: int
) -> None:
    request, token = send_to_client(starter_forms["questionnaire"])
    recipient = selectors.recipient_for_token(token)
    assert recipient is not None
    for key, value in {
        "business-name": "Bolos",
        "description": "Cakes",
        "contact-email": "a@bolos.pt",
        "has-domain": "no",
        "style": "Modern",
    }.items():
        services.save_answer(recipient, key, value)

    def submit() -> object:
        return services.submit_request(selectors.recipient_for_token(token))  # type: ignore[arg-type]

    assert _at_once(submit, submit) == ["ok", "ok"]
    assert Submission.objects.filter(request=request).count() == 1
    assert order.events.filter(kind=OrderEvent.Kind.REQUEST_SUBMITTED).count() == 1
    assert (
        order.events.filter(
            kind=OrderEvent.Kind.STAGE_CHANGED, to_stage__key="questionnaire-received"
        ).count()
        == 1
    )
