"""The schedule of due work: add a job, claim due jobs in bounded batches, run one with retries.

Long delays live here, never in Celery ETA/countdown. The beat sweep claims due rows with
`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (a conditional UPDATE with a claim token on SQLite,
whose writers are serialised anyway) and hands them to workers. Running a job locks its row and
does its work in the same transaction that marks it done, so a job runs at most once to completion;
a row left running by a dead worker is claimed again after the lease. External I/O (a webhook) is
the exception: it runs between two transactions, with no row locked (OutsideWork).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.automation.models import ScheduledJob
from orderflow.errors import DomainError

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
CHUNK_SIZE = 20
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600)


def lease_seconds() -> int:
    """How long a claimed job may stay running before a sweep claims it again (its worker died)."""
    return int(getattr(settings, "ORDERFLOW_JOB_LEASE_SECONDS", 300))


class PermanentJobError(DomainError):
    """An action that cannot succeed by retrying (e.g. a stage guard refuses the move): failed at once."""

    code = "job_permanent"


@dataclass(frozen=True)
class OutsideWork:
    """External I/O a handler asks for (e.g. a webhook's HTTP call), done with no transaction open.

    The handler prepares it inside the job's transaction and returns it. The schedule commits, runs
    `call()` with no row locked, then runs `finish(job, result)` in a new transaction with the job
    locked and marks the job done. If `call` raises, the job is retried with backoff like any other.
    """

    call: Callable[[], Any]
    finish: Callable[[ScheduledJob, Any], str]


Handler = Callable[[ScheduledJob], "str | OutsideWork"]
_handlers: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that does the work of jobs of `kind`; it returns a short outcome text."""

    def register(function: Handler) -> Handler:
        _handlers[kind] = function
        return function

    return register


def schedule_job(
    *, key: str, kind: str, due_at: datetime.datetime, payload: dict[str, Any], order_id: int | None = None
) -> ScheduledJob:
    """Add a job once per `key` (scheduling it again returns the existing row unchanged)."""
    job, _created = ScheduledJob.objects.get_or_create(
        idempotency_key=key,
        defaults={"kind": kind, "due_at": due_at, "payload": payload, "order_id": order_id},
    )
    return job


def dispatch_soon(job_ids: list[int]) -> None:
    """After commit, ask a worker to run these jobs now (they are due; the sweep would find them too)."""
    from orderflow.automation.tasks import run_scheduled_jobs

    ids = list(job_ids)
    if ids:
        transaction.on_commit(lambda: run_scheduled_jobs.delay(ids))


def claim_due_jobs(*, limit: int = BATCH_SIZE, now: datetime.datetime | None = None) -> list[int]:
    """Mark up to `limit` due jobs running and return their ids, oldest due first.

    Due means pending with due_at ≤ now, or running with a claim older than the lease. Two sweeps
    at once never claim the same row.
    """
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=lease_seconds())
    due = Q(status=ScheduledJob.Status.PENDING, due_at__lte=now) | Q(
        status=ScheduledJob.Status.RUNNING, claimed_at__lt=stale
    )
    token = uuid.uuid4().hex
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            locked = (
                ScheduledJob.objects.filter(due).select_for_update(skip_locked=True).order_by("due_at", "id")
            )
            ids = list(locked.values_list("id", flat=True)[:limit])
            ScheduledJob.objects.filter(pk__in=ids).update(
                status=ScheduledJob.Status.RUNNING, claimed_at=now, claim_token=token
            )
            return ids
        candidates = list(
            ScheduledJob.objects.filter(due).order_by("due_at", "id").values_list("id", flat=True)[:limit]
        )
        # Conditional UPDATE: only rows still due are claimed; the token says which ones we got.
        ScheduledJob.objects.filter(due, pk__in=candidates).update(
            status=ScheduledJob.Status.RUNNING, claimed_at=now, claim_token=token
        )
        claimed = ScheduledJob.objects.filter(claim_token=token).order_by("due_at", "id")
        return list(claimed.values_list("id", flat=True))


def sweep(*, batches: int = 10, batch_size: int = BATCH_SIZE) -> int:
    """Claim due jobs in bounded batches and hand them to workers in chunks; returns how many."""
    from orderflow.automation.tasks import run_scheduled_jobs

    total = 0
    for _batch in range(batches):
        ids = claim_due_jobs(limit=batch_size)
        for start in range(0, len(ids), CHUNK_SIZE):
            run_scheduled_jobs.delay(ids[start : start + CHUNK_SIZE])
        total += len(ids)
        if len(ids) < batch_size:
            break
    return total


def run_job(job_id: int) -> str:
    """Do one job if it is still to be done; safe to call twice or for a job already finished.

    A failure is recorded on the row and the job waits for its next attempt with backoff; after
    MAX_ATTEMPTS (or at once for a PermanentJobError) it is failed, for staff to see. Either way the
    error stays with this job: other jobs and the change that scheduled it are untouched. A handler
    that needs external I/O returns OutsideWork, which runs after this transaction has committed.
    """
    try:
        with transaction.atomic():
            job = ScheduledJob.objects.select_for_update().get(pk=job_id)
            runnable = job.status == ScheduledJob.Status.RUNNING or (
                job.status == ScheduledJob.Status.PENDING and job.due_at <= timezone.now()
            )
            if not runnable:
                return f"not run: {job.status}"
            job.attempts += 1
            job.status = ScheduledJob.Status.RUNNING
            outcome = _handlers[job.kind](job)
            if isinstance(outcome, OutsideWork):
                # Hold the job as ours (a fresh lease and token) while the call runs with no lock held.
                job.claimed_at = timezone.now()
                job.claim_token = uuid.uuid4().hex
                job.save(update_fields=["status", "attempts", "claimed_at", "claim_token"])
                work, token = outcome, job.claim_token
            elif job.status == ScheduledJob.Status.PENDING:  # the handler put it off to a later time
                job.save(update_fields=["status", "attempts", "due_at"])
                return outcome
            else:
                _mark_done(job)
                return outcome
    except ScheduledJob.DoesNotExist:
        return "not run: gone"
    except Exception as error:
        _record_failure(job_id, error)
        return f"failed: {error}"
    return _run_outside(job_id, work, token)


def _run_outside(job_id: int, work: OutsideWork, token: str) -> str:
    """Do the handler's external I/O with no transaction open, then finish the job in a new one."""
    try:
        result = work.call()
    except Exception as error:
        _record_failure(job_id, error, counted=True, token=token)
        return f"failed: {error}"
    try:
        with transaction.atomic():
            job = ScheduledJob.objects.select_for_update().get(pk=job_id)
            if job.status != ScheduledJob.Status.RUNNING or job.claim_token != token:
                return f"not finished: the job is {job.status} and held by another run"
            outcome = work.finish(job, result)
            _mark_done(job)
            return outcome
    except ScheduledJob.DoesNotExist:
        return "not run: gone"
    except Exception as error:
        _record_failure(job_id, error, counted=True, token=token)
        return f"failed: {error}"


def _mark_done(job: ScheduledJob) -> None:
    job.status = ScheduledJob.Status.DONE
    job.finished_at = timezone.now()
    job.last_error = ""
    job.save(update_fields=["status", "attempts", "finished_at", "last_error"])


def _record_failure(job_id: int, error: Exception, *, counted: bool = False, token: str = "") -> None:
    """Record the error: retry later with backoff, or fail for good (a domain refusal, or too many tries).

    `counted`: this attempt was already counted (work outside the transaction); `token`: only if the
    job is still held by this run (a job another sweep claimed since is that run's to record).
    """
    from orderflow.automation.actions import note_action_failed

    message = str(error) if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
    with transaction.atomic():
        job = ScheduledJob.objects.select_for_update().get(pk=job_id)
        if token and job.claim_token != token:
            return
        if not counted:
            job.attempts += 1
        job.last_error = message[:2000]
        if isinstance(error, DomainError) or job.attempts >= MAX_ATTEMPTS:
            job.status = ScheduledJob.Status.FAILED
            job.finished_at = timezone.now()
            note_action_failed(job, message)
        else:
            delay = BACKOFF_SECONDS[min(job.attempts - 1, len(BACKOFF_SECONDS) - 1)]
            job.status = ScheduledJob.Status.PENDING
            job.due_at = timezone.now() + datetime.timedelta(seconds=delay)
        job.save(update_fields=["attempts", "last_error", "status", "due_at", "finished_at"])
    logger.warning("scheduled job %s failed (attempt %s): %s", job_id, job.attempts, message)


def cancel_jobs(*, key_prefix: str) -> int:
    """Cancel every pending job whose key starts with `key_prefix`; returns how many."""
    return ScheduledJob.objects.filter(
        idempotency_key__startswith=key_prefix, status=ScheduledJob.Status.PENDING
    ).update(status=ScheduledJob.Status.CANCELLED, finished_at=timezone.now())


@transaction.atomic
def retry_job(job: ScheduledJob) -> ScheduledJob:
    """Staff asked to try a failed job again now: it is pending, due now, with a fresh count of attempts."""
    locked = ScheduledJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != ScheduledJob.Status.FAILED:
        raise DomainError(_("Only a failed job can be tried again."), code="job_not_failed")
    locked.status = ScheduledJob.Status.PENDING
    locked.due_at = timezone.now()
    locked.attempts = 0
    locked.finished_at = None
    locked.save(update_fields=["status", "due_at", "attempts", "finished_at"])
    dispatch_soon([locked.pk])
    return locked
