"""A Celery worker on Redis is killed in the middle of a sweep of thousands of due reminders (PostgreSQL).

After a new worker starts and the sweep runs again, every reminder step was done exactly once, as
the schedule and the timeline record it: each step's scheduled job is done after one counted
attempt and no other job was made for it, each reminder has exactly one REMINDER_SENT event and one
outbox message (none missing, none twice), and none is left to do. Jobs the dead worker had claimed
are claimed again after the lease (shortened here to a few seconds). What reaches the SMTP server is
checked as a mail program sees it: one Message-ID per reminder (a copy re-sent after a kill carries
the same one).
"""

from __future__ import annotations

import collections
import datetime
import time
from typing import Any

import pytest
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

REMINDERS = 3000
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
    arranging = time.monotonic()
    _arrange_due_reminders(REMINDERS)
    print(f"arranged in {time.monotonic() - arranging:.1f} s")

    started = time.monotonic()
    assert sweep(batches=REMINDERS // 200 + 1) == REMINDERS  # all claimed, handed to the worker
    deadline = time.monotonic() + 120
    while _steps_done() < REMINDERS // 4:
        assert time.monotonic() < deadline, f"the worker did only {_steps_done()} steps in 120 s"
        time.sleep(0.05)
    celery_worker_redis.stop()  # SIGKILL to the worker and its pool, mid-batch
    killed_at = _steps_done()
    assert killed_at < REMINDERS, "the worker finished before it was killed; raise REMINDERS"

    restarting = time.monotonic()
    celery_worker_process(celery_worker_redis.broker_url)
    print(
        f"killed at {restarting - started:.1f} s; new worker ready in {time.monotonic() - restarting:.1f} s"
    )
    deadline = time.monotonic() + 300
    unfinished = ScheduledJob.objects.exclude(status=ScheduledJob.Status.DONE)
    while unfinished.exists():
        assert time.monotonic() < deadline, f"after the restart {_steps_done()} of {REMINDERS} steps done"
        sweep()  # claims again what the dead worker held, once the lease has passed
        time.sleep(0.5)

    elapsed = time.monotonic() - started
    reminder_ids = set(Reminder.objects.values_list("pk", flat=True))
    assert len(reminder_ids) == REMINDERS
    # The schedule: one job per step, each done, counted once, never failed or retried.
    jobs = ScheduledJob.objects.filter(kind=ScheduledJob.Kind.REMINDER_STEP)
    assert jobs.count() == REMINDERS
    assert {job.payload["reminder"] for job in jobs} == reminder_ids
    assert set(jobs.values_list("status", "attempts", "last_error")) == {(ScheduledJob.Status.DONE, 1, "")}
    assert not ScheduledJob.objects.exclude(status=ScheduledJob.Status.DONE).exists()
    # The reminders: each moved past its one step exactly once.
    assert set(Reminder.objects.values_list("next_step", "status")) == {(1, Reminder.Status.FINISHED)}
    # The timeline: one REMINDER_SENT per reminder, for step 1.
    sent = OrderEvent.objects.filter(kind=OrderEvent.Kind.REMINDER_SENT)
    per_reminder = collections.Counter(sent.values_list("data__reminder", flat=True))
    assert set(per_reminder) == reminder_ids
    assert set(per_reminder.values()) == {1}
    assert set(sent.values_list("data__step", flat=True)) == {1}
    # The outbox: exactly the one message of each step, by its idempotency key.
    keys = list(
        OutboxMessage.objects.filter(idempotency_key__startswith="reminder:").values_list(
            "idempotency_key", flat=True
        )
    )
    assert sorted(keys) == sorted(f"reminder:{pk}:step:0" for pk in reminder_ids)
    # Delivering the e-mails is the outbox's work (notifications): a mail program sees each once.
    ids_by_subject: dict[str, set[str]] = collections.defaultdict(set)
    for mail in smtp_server.messages:
        ids_by_subject[mail.subject].add(str(mail.message["Message-ID"]))
    assert ids_by_subject, "no reminder e-mail was delivered"
    twice = [subject for subject, ids in ids_by_subject.items() if len(ids) > 1]
    assert not twice, twice[:5]
    print(
        f"killed after {killed_at} of {REMINDERS} steps; all {REMINDERS} done once after the restart; "
        f"{elapsed:.1f} s from the first sweep; {len(smtp_server.messages)} e-mails received so far"
    )
