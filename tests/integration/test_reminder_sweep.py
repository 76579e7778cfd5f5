"""A Celery worker on Redis is killed in the middle of a sweep of thousands of due reminders (PostgreSQL).

After a new worker starts and the sweep runs again, every reminder step was done exactly once: one
REMINDER_SENT event and one outbox message each, and no e-mail reaches SMTP twice. Jobs the dead worker had claimed
are claimed again after the lease (shortened here to a few seconds).
"""

from __future__ import annotations

import collections
import datetime
import time
from typing import Any

import pytest
from django.db.models import Count
from django.utils import timezone

from orderflow.automation.models import Reminder, ScheduledJob
from orderflow.automation.schedule import sweep
from orderflow.automation.services import save_sequence
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import Order, OrderEvent
from tests.factories import ContactFactory, PipelineFactory
from tests.fixtures.celery_worker import CeleryWorkerProcess, StartWorker
from tests.fixtures.smtp import SmtpServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.integration]

REMINDERS = 1200
LEASE_SECONDS = 5


def _arrange_due_reminders(count: int) -> None:
    """`count` orders, each with a request sent two weeks ago and its first reminder step due now."""
    pipeline = PipelineFactory()
    sequence = save_sequence(
        pipeline,
        {
            "key": "questionnaire",
            "name": "Questionnaire",
            "start": "request.sent",
            "steps": [{"days": 5, "subject": {"en": "Reminder for {order_number}"}, "body": {"en": "Hello"}}],
        },
    )
    client = ContactFactory(email="many@example.com")
    stage = pipeline.stages.get(key="questionnaire-sent")
    sent = timezone.now() - datetime.timedelta(days=14)
    orders = Order.objects.bulk_create(
        Order(pipeline=pipeline, number=n, title=f"Site {n}", stage=stage, client=client)
        for n in range(1, count + 1)
    )
    pipeline.last_number = count
    pipeline.save(update_fields=["last_number"])
    events = OrderEvent.objects.bulk_create(
        OrderEvent(
            order=order, kind=OrderEvent.Kind.REQUEST_SENT, data={"request": order.pk}, created_at=sent
        )
        for order in orders
    )
    reminders = Reminder.objects.bulk_create(
        Reminder(
            sequence=sequence,
            order=order,
            start_event=event,
            awaited_id=str(order.pk),
            started_at=sent,
            next_due_at=timezone.now(),
        )
        for order, event in zip(orders, events, strict=True)
    )
    ScheduledJob.objects.bulk_create(
        ScheduledJob(
            idempotency_key=f"reminder:{reminder.pk}:step:0",
            kind=ScheduledJob.Kind.REMINDER_STEP,
            due_at=timezone.now() - datetime.timedelta(minutes=1),
            payload={"reminder": reminder.pk, "step": 0},
            order_id=reminder.order_id,
        )
        for reminder in reminders
    )


def _steps_done() -> int:
    return Reminder.objects.filter(next_step=1).count()


def test_killing_a_worker_mid_sweep_sends_each_due_reminder_exactly_once(
    settings: Any,
    celery_worker_redis: CeleryWorkerProcess,
    celery_worker_process: StartWorker,
    smtp_server: SmtpServer,
) -> None:
    settings.ORDERFLOW_JOB_LEASE_SECONDS = LEASE_SECONDS
    _arrange_due_reminders(REMINDERS)

    assert sweep(batches=REMINDERS // 200 + 1) == REMINDERS  # all claimed, handed to the worker
    deadline = time.monotonic() + 60
    while _steps_done() < REMINDERS // 4:
        assert time.monotonic() < deadline, f"the worker did only {_steps_done()} steps in 60 s"
        time.sleep(0.05)
    celery_worker_redis.stop()  # SIGKILL to the worker and its pool, mid-batch
    killed_at = _steps_done()
    assert killed_at < REMINDERS, "the worker finished before it was killed; raise REMINDERS"

    celery_worker_process(celery_worker_redis.broker_url)
    deadline = time.monotonic() + 120
    unfinished = ScheduledJob.objects.exclude(status=ScheduledJob.Status.DONE)
    while unfinished.exists():
        assert time.monotonic() < deadline, f"after the restart {_steps_done()} of {REMINDERS} steps done"
        sweep()  # claims again what the dead worker held, once the lease has passed
        time.sleep(0.5)

    per_reminder = (
        OrderEvent.objects.filter(kind=OrderEvent.Kind.REMINDER_SENT)
        .values("data__reminder")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert len(per_reminder) == REMINDERS
    assert set(per_reminder) == {1}
    assert OutboxMessage.objects.filter(idempotency_key__startswith="reminder:").count() == REMINDERS
    assert _steps_done() == REMINDERS
    # Delivering the e-mails is the outbox's work (notifications); none of them went out twice.
    received = collections.Counter(mail.subject for mail in smtp_server.messages)
    assert received, "no reminder e-mail was delivered"
    assert set(received.values()) == {1}, [subject for subject, n in received.items() if n > 1][:5]
    print(f"killed after {killed_at} of {REMINDERS} steps; all {REMINDERS} sent once after the restart")
