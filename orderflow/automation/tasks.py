"""Celery tasks of automation."""

from celery import shared_task
from django.db import transaction

from orderflow.automation.engine import react_to_event
from orderflow.pipelines.models import OrderEvent


@shared_task(name="orderflow.automation.handle_order_event", autoretry_for=(OSError,), max_retries=5)
def handle_order_event(event_id: int) -> None:
    """Evaluate the reactions to one committed event. Re-running it is harmless."""
    event = OrderEvent.objects.select_related("order__client", "order__pipeline", "to_stage").get(pk=event_id)
    with transaction.atomic():
        react_to_event(event)
