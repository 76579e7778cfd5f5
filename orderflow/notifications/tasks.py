"""Celery tasks of notifications: thin wrappers that take ids and call the services."""

from celery import shared_task

from orderflow.notifications import services
from orderflow.notifications.channels.email import reused_connection


@shared_task(name="orderflow.notifications.deliver_message")
def deliver_message(message_id: int) -> str:
    """Deliver one due outbox message; safe to run twice (only a queued, due row is claimed).

    No Celery retries: a failure is written to the row with its next attempt time, and the beat
    sweep hands it out again then (long waits live in the row, never in a task's ETA).
    """
    return services.deliver(message_id).status


@shared_task(name="orderflow.notifications.deliver_message_batch")
def deliver_message_batch(message_ids: list[int]) -> int:
    """Deliver several due messages over one SMTP connection; returns how many were sent.

    Each message is claimed on its own and marked sent right after the server's "250", so the batch
    is as safe to repeat as `deliver_message`. An unexpected error in one message is recorded on its
    row and does not stop the others.
    """
    with reused_connection():
        return services.deliver_batch(message_ids)


@shared_task(name="orderflow.notifications.deliver_due_messages")
def deliver_due_messages() -> int:
    """Beat: hand the messages that fell due to workers, one bounded batch per run."""
    return services.deliver_due_messages()
