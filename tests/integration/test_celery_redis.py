"""A real Celery worker on Redis delivers the client's e-mail after a stage move, with no eager shortcut."""

from __future__ import annotations

import time

import pytest

from orderflow.accounts.roles import Role
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.services import move_order
from tests.factories import ContactFactory, OrderFactory, PipelineFactory, UserFactory
from tests.fixtures.celery_worker import CeleryWorkerProcess
from tests.fixtures.smtp import SmtpServer

pytestmark = [pytest.mark.redis, pytest.mark.integration]


def _wait_for_status(message: OutboxMessage, status: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == status:
            return
        time.sleep(0.2)
    pytest.fail(
        f"outbox message stayed {message.status!r} (wanted {status!r}); last error: {message.last_error}"
    )


def test_worker_on_redis_emails_the_client_after_a_move(
    celery_worker_redis: CeleryWorkerProcess, smtp_server: SmtpServer
) -> None:
    pipeline = PipelineFactory()
    rep = UserFactory(role=Role.REP)
    order = OrderFactory(pipeline=pipeline, client=ContactFactory(email="bea@example.com"), by=rep)

    move_order(order, pipeline.stages.get(key="questionnaire-sent"), by=rep, reason="Paid")

    [mail] = smtp_server.wait_for(1, timeout=30)
    assert mail.envelope_to == ["bea@example.com"]
    assert mail.subject == f"Your order {order.reference}: Waiting for your questionnaire"
    _wait_for_status(OutboxMessage.objects.get(order=order), OutboxMessage.Status.SENT, timeout=10)
    assert "deliver_message" in celery_worker_redis.log(), "the e-mail was not sent by the worker"
