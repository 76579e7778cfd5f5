"""Queueing and delivering messages. Queueing is idempotent; delivery happens only in a worker."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from orderflow.accounts.models import Contact
from orderflow.notifications.models import OutboxMessage
from orderflow.pipelines.models import OrderEvent

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def queue_email(
    *,
    key: str,
    recipient: str,
    subject: str,
    body_text: str,
    language: str,
    contact: Contact | None = None,
    order_id: int | None = None,
) -> OutboxMessage:
    """Put an e-mail in the outbox once per `key`, and ask a worker to deliver it after commit."""
    message, created = OutboxMessage.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "recipient": recipient,
            "subject": subject,
            "body_text": body_text,
            "language": language,
            "contact": contact,
            "order_id": order_id,
        },
    )
    if created:
        from orderflow.notifications.tasks import deliver_message

        message_id = message.pk
        transaction.on_commit(lambda: deliver_message.delay(message_id))
    return message


def notify_client_of_stage_change(event: OrderEvent) -> OutboxMessage | None:
    """E-mail the order's client that the order reached a new stage, in the client's language.

    Returns None when there is nothing to send (stage not client-facing, client has no e-mail).
    """
    if event.kind != OrderEvent.Kind.STAGE_CHANGED or event.audience != OrderEvent.Audience.CLIENT:
        return None
    order = event.order
    client = order.client
    if not client.email or event.to_stage is None:
        return None
    with translation.override(client.language):
        context = {
            "client": client,
            "order": order,
            "stage_label": event.to_stage.label_for_client_in(client.language),
            "stage_description": event.to_stage.client_description,
            "organisation_name": _organisation_name(),
        }
        subject = render_to_string("notifications/email/stage_changed_subject.txt", context).strip()
        body = render_to_string("notifications/email/stage_changed.txt", context)
    return queue_email(
        key=f"order-event:{event.pk}:client-email",
        recipient=client.email,
        subject=subject,
        body_text=body,
        language=client.language,
        contact=client,
        order_id=order.pk,
    )


def _organisation_name() -> str:
    from orderflow.accounts.models import Organisation

    return Organisation.current().name


def deliver(message_id: int) -> OutboxMessage:
    """Send one queued message now. Claims the row first, so two workers never send it twice.

    A failure leaves the row queued with the error and one more attempt counted; after
    MAX_ATTEMPTS it is marked failed for staff to see.
    """
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if message.status != OutboxMessage.Status.QUEUED:
            return message
        message.status = OutboxMessage.Status.SENDING
        message.attempts += 1
        message.save(update_fields=["status", "attempts"])
    try:
        EmailMessage(
            subject=message.subject,
            body=message.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"X-Orderflow-Message": message.idempotency_key},
        ).send()
    except Exception as error:
        message.last_error = f"{type(error).__name__}: {error}"
        message.status = (
            OutboxMessage.Status.FAILED if message.attempts >= MAX_ATTEMPTS else OutboxMessage.Status.QUEUED
        )
        message.save(update_fields=["status", "last_error"])
        logger.warning("delivery of message %s failed: %s", message.pk, message.last_error)
        raise
    message.status = OutboxMessage.Status.SENT
    message.sent_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["status", "sent_at", "last_error"])
    return message
