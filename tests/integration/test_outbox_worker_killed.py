"""10 000 notifications through the outbox on PostgreSQL + Redis while the worker is killed twice.

The messages are queued by the real service (`queue_message`, in transactions of 500), on a clock set
an hour back, to fall due half an hour ago: a burst of reminders that all fall due at once, found by
the sweep (messages due when queued go to a worker on commit instead). The test process plays beat: it runs the sweep every half
second, as `deliver_due_messages` runs on a schedule. A real Celery worker on Redis sends them over
real SMTP to aiosmtpd. After a third and after two thirds have arrived, the worker's whole process
group gets SIGKILL mid-batch and a fresh worker starts.

What "arrives exactly once" means here, honestly: SMTP cannot be exactly-once across a SIGKILL that
falls between the server's "250" and our commit of "sent". Such a message is sent again, with the same
Message-ID and body, and the recipient's mailbox (a mail program files by Message-ID) holds it once.
So the test asserts: every row ends `sent`; the mailbox, deduplicated by Message-ID, holds each of
the 10 000 exactly once and nothing else; raw re-transmissions are few — at most the messages a
killed worker had claimed and not marked sent, and at most one per pool process per kill — and each
re-transmission repeats the first copy's Message-ID and body.
"""

from __future__ import annotations

import collections
import datetime
import email.parser
import email.policy
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from orderflow.notifications import services
from orderflow.notifications.channels.email import message_id_for
from orderflow.notifications.models import OutboxMessage
from tests.factories import ContactFactory
from tests.fixtures.celery_worker import CeleryWorkerProcess, StartWorker
from tests.fixtures.smtp import ReceivedMail, SmtpServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.integration]

TOTAL = 10_000
CONTACTS = 200
QUEUE_TRANSACTION = 500
KILLS = 2
POOL_PROCESSES = 2  # the worker fixture runs `celery worker -c 2`
BUDGET_SECONDS = 420  # a failing run stops here instead of hanging the suite


@pytest.fixture
def quiet_smtp_log() -> Iterator[None]:
    """aiosmtpd logs every SMTP command at INFO: 100 000 lines here, which only slow the server."""
    logger = logging.getLogger("mail.log")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


def _group_cpu_seconds(group: int) -> float:
    """User + system CPU seconds of every live process in a process group (a worker and its pool)."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _sweep_until(predicate: Callable[[], bool], deadline: float) -> None:
    while time.monotonic() < deadline:
        services.deliver_due_messages(limit=100, max_in_flight=200)
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail("the outbox did not drain in time")


_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def _ids(mail: ReceivedMail) -> tuple[str, str]:
    """(Message-ID, outbox key) from the headers alone: fast enough for 10 000 messages."""
    headers = _HEADERS.parsebytes(mail.raw)
    return str(headers["Message-ID"]), str(headers["X-Orderflow-Message"])


def _key(mail: ReceivedMail) -> str:
    return _ids(mail)[1]


def test_every_message_arrives_once_while_the_worker_is_killed(
    settings: Any,
    quiet_smtp_log: None,
    smtp_server: SmtpServer,
    celery_worker_redis: CeleryWorkerProcess,
    celery_worker_process: StartWorker,
) -> None:
    settings.ORDERFLOW_OUTBOX_CLAIM_TIMEOUT = 8  # a dead worker's rows are handed out again after 8 s
    contacts = ContactFactory.create_batch(CONTACTS)
    started = time.monotonic()
    test_cpu = time.process_time()
    deadline = started + BUDGET_SECONDS
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    due = hour_ago + datetime.timedelta(minutes=30)
    for first in range(0, TOTAL, QUEUE_TRANSACTION):
        with time_machine.travel(hour_ago + datetime.timedelta(seconds=first / 100)), transaction.atomic():
            for n in range(first, first + QUEUE_TRANSACTION):
                contact = contacts[n % CONTACTS]
                services.queue_message(
                    key=f"burst:{n}",
                    channel="email",
                    recipient=contact.email,
                    subject=f"Your order moved ({n})",
                    body_text=f"Hello {contact.name}, your order moved. Message {n}.",
                    language="en",
                    contact=contact,
                    deliver_after=due,
                )
    queued_in = time.monotonic() - started
    queue_cpu = time.process_time() - test_cpu
    worker_cpu = 0.0

    worker = celery_worker_redis
    kills: list[tuple[int, int, float]] = []  # (mail received before, rows in doubt, restart seconds)
    for kill in range(1, KILLS + 1):
        target = TOTAL * kill // (KILLS + 1)
        _sweep_until(lambda: len(smtp_server.messages) >= target, deadline)  # noqa: B023 (called at once)
        worker_cpu += _group_cpu_seconds(worker.process.pid)
        worker.stop()  # SIGKILL to the worker and its pool, mid-batch
        # The dead worker can change nothing now: rows still `sending` are the ones in doubt.
        in_doubt = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING).count()
        arrived = len(smtp_server.messages)
        restarting = time.monotonic()
        worker = celery_worker_process(worker.broker_url)
        kills.append((arrived, in_doubt, time.monotonic() - restarting))

    _sweep_until(
        lambda: not OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).exists(), deadline
    )
    elapsed = time.monotonic() - started
    worker_cpu += _group_cpu_seconds(worker.process.pid)
    test_cpu = time.process_time() - test_cpu - queue_cpu

    statuses = collections.Counter(OutboxMessage.objects.values_list("status", flat=True))
    received = list(smtp_server.messages)
    mailbox: dict[str, ReceivedMail] = {}
    resent: list[ReceivedMail] = []
    for mail in received:
        message_id, _key_of_mail = _ids(mail)
        if message_id in mailbox:
            resent.append(mail)
        else:
            mailbox[message_id] = mail
    print(
        f"\noutbox: {TOTAL} messages queued in {queued_in:.1f} s; all sent {elapsed:.1f} s after the first "
        f"was queued ({TOTAL / (elapsed - queued_in):.0f} messages/s after queueing); kills after "
        + ", ".join(
            f"{count} e-mails with {doubt} in doubt (new worker in {boot:.1f} s)"
            for count, doubt, boot in kills
        )
        + f"; {len(resent)} re-transmissions; statuses {dict(statuses)}. CPU seconds: queueing {queue_cpu:.0f}, "
        f"workers {worker_cpu:.0f}, SMTP server + sweep {test_cpu:.0f}, load average {os.getloadavg()[0]:.1f}"
    )

    assert statuses == {OutboxMessage.Status.SENT: TOTAL}, worker.log()[-3000:]
    expected = {f"burst:{n}" for n in range(TOTAL)}
    assert len(mailbox) == TOTAL
    assert {_key(mail) for mail in mailbox.values()} == expected
    assert all(message_id == message_id_for(_key(mail)) for message_id, mail in mailbox.items())
    assert len(resent) <= sum(doubt for _count, doubt, _boot in kills)
    assert len(resent) <= POOL_PROCESSES * KILLS
    for copy in resent:
        original = mailbox[_ids(copy)[0]]
        assert (_key(copy), copy.body, copy.envelope_to) == (
            _key(original),
            original.body,
            original.envelope_to,
        )
