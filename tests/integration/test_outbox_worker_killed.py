"""Thousands of e-mails through the outbox on PostgreSQL + Redis while a worker is killed and replaced.

The test process plays beat (it runs the sweep every half second, as `deliver_due_messages` would
run on a schedule); real Celery workers on Redis send over real SMTP to aiosmtpd. Halfway, the first
worker's whole process group gets SIGKILL mid-batch and a fresh worker starts. Every message must
reach the SMTP server, every row must end `sent` once. A worker killed between the server's "250"
and its database commit can make one message go twice; such a copy carries the same Message-ID, and
the test counts those copies and allows at most one per message that was in flight at the kill.
"""

from __future__ import annotations

import collections
import datetime
import os
import time
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from orderflow.notifications import services
from orderflow.notifications.models import OutboxMessage
from tests.fixtures.celery_worker import CeleryWorkerProcess, StartWorker
from tests.fixtures.smtp import SmtpServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.integration]

# 10 000 is the number; the default keeps the test inside three minutes on a busy two-core CI
# machine (about 12 e-mails/s there under load). ORDERFLOW_TEST_OUTBOX_TOTAL=10000 runs the full one.
TOTAL = int(os.environ.get("ORDERFLOW_TEST_OUTBOX_TOTAL", "1000"))
BUDGET_SECONDS = max(170, TOTAL // 8)


def _sweep_until(predicate: Any, deadline: float) -> None:
    while time.monotonic() < deadline:
        services.deliver_due_messages(limit=500, max_in_flight=600)
        if predicate():
            return
        time.sleep(0.5)


def test_every_message_arrives_once_while_a_worker_is_killed(
    settings: Any,
    smtp_server: SmtpServer,
    celery_worker_redis: CeleryWorkerProcess,
    celery_worker_process: StartWorker,
) -> None:
    settings.ORDERFLOW_OUTBOX_CLAIM_TIMEOUT = 8  # a dead worker's rows are handed out again after 8 s
    started = time.monotonic()
    deadline = started + BUDGET_SECONDS
    due = timezone.now() + datetime.timedelta(seconds=1)
    with transaction.atomic():
        OutboxMessage.objects.bulk_create(
            OutboxMessage(
                idempotency_key=f"bulk:{n}",
                recipient=f"client{n}@example.com",
                subject=f"Message {n}",
                body_text="Your order moved.",
                deliver_after=due,
            )
            for n in range(TOTAL)
        )
    queued_in = time.monotonic() - started

    _sweep_until(lambda: len(smtp_server.messages) >= TOTAL // 3, deadline)
    in_flight_at_kill = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING).count()
    killed_at = len(smtp_server.messages)
    celery_worker_redis.stop()  # SIGKILL to the worker and its pool, mid-batch
    replacement = celery_worker_process(celery_worker_redis.broker_url)

    _sweep_until(
        lambda: not OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).exists(), deadline
    )
    elapsed = time.monotonic() - started

    statuses = collections.Counter(OutboxMessage.objects.values_list("status", flat=True))
    keys = collections.Counter(str(mail.message["X-Orderflow-Message"]) for mail in smtp_server.messages)
    duplicates = sum(count - 1 for count in keys.values())
    print(
        f"\noutbox: {TOTAL} messages queued in {queued_in:.1f} s, all sent after {elapsed:.1f} s "
        f"({TOTAL / elapsed:.0f} messages/s overall); killed after {killed_at} e-mails with "
        f"{in_flight_at_kill} being sent; {duplicates} duplicate SMTP deliveries; statuses {dict(statuses)}"
    )
    assert statuses == {OutboxMessage.Status.SENT: TOTAL}, replacement.log()[-3000:]
    assert set(keys) == {f"bulk:{n}" for n in range(TOTAL)}
    assert duplicates <= max(in_flight_at_kill, 2)
    message_ids = collections.Counter(str(mail.message["Message-ID"]) for mail in smtp_server.messages)
    assert len(message_ids) == TOTAL, "a copy sent again keeps its Message-ID"
