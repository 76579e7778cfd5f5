"""Celery tasks of automation: thin, take ids, safe to run twice."""

from celery import shared_task
from django.db import transaction

from orderflow.automation import actions, engine, reminders  # noqa: F401  (registers job handlers)
from orderflow.automation.engine import react_to_event
from orderflow.automation.schedule import run_job, sweep
from orderflow.pipelines.models import OrderEvent


@shared_task(name="orderflow.automation.handle_order_event", autoretry_for=(OSError,), max_retries=5)
def handle_order_event(event_id: int) -> None:
    """Evaluate the reactions to one committed event. Re-running it is harmless."""
    event = OrderEvent.objects.select_related(
        "order__client", "order__pipeline", "order__stage", "to_stage", "from_stage"
    ).get(pk=event_id)
    with transaction.atomic():
        react_to_event(event)


@shared_task(name="orderflow.automation.sweep_due_jobs")
def sweep_due_jobs() -> int:
    """Beat: claim due scheduled jobs in bounded batches and hand them to workers."""
    return sweep()


@shared_task(name="orderflow.automation.run_scheduled_jobs", acks_late=True)
def run_scheduled_jobs(job_ids: list[int]) -> list[str]:
    """Run claimed jobs, each in its own transaction; a failing one is recorded and the rest go on."""
    return [run_job(job_id) for job_id in job_ids]
