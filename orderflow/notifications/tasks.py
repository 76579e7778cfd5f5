"""Celery tasks of notifications: thin wrappers that take ids and call the services."""

from celery import shared_task

from orderflow.notifications import services


@shared_task(
    name="orderflow.notifications.deliver_message",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=services.MAX_ATTEMPTS,
)
def deliver_message(message_id: int) -> str:
    """Deliver one outbox message; safe to run twice (a sent message is left alone)."""
    return services.deliver(message_id).status
