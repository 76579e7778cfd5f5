"""What staff (and other apps) do to outbox messages: send again, retry now, give up, withdraw."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.accounts.models import User
from orderflow.notifications.models import OutboxMessage
from orderflow.notifications.services.delivery import fail_message
from orderflow.notifications.services.queueing import (
    Attachment,
    NotificationError,
    dispatch_after_commit,
    queue_message,
)


def _locked(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.select_for_update().get(pk=message.pk)


@transaction.atomic
def resend_message(message: OutboxMessage, *, by: User | None) -> OutboxMessage:
    """Send a copy of a sent or failed message now, outside the recipient's window (staff asked).

    The copy carries the same attachments and links, and is suppressed like any message if the
    recipient has refused it since.
    """
    if message.status not in {OutboxMessage.Status.SENT, OutboxMessage.Status.FAILED}:
        raise NotificationError(
            _("This message has not been sent yet; it goes out on its own."), code="message_pending"
        )
    copies = OutboxMessage.objects.filter(idempotency_key__startswith=f"{message.idempotency_key}:resend-")
    attachments = [
        Attachment(filename=row.filename, content_type=row.content_type, content=bytes(row.content))
        for row in message.attachments.all()
    ]
    return queue_message(
        key=f"{message.idempotency_key}:resend-{copies.count() + 1}",
        channel=message.channel,
        recipient=message.recipient,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        reply_to=message.reply_to,
        language=message.language,
        contact=message.contact,
        order_id=message.order_id,
        is_transactional=message.is_transactional,
        urgent=True,
        attachments=attachments,
        links=message.links,
    )


def _check_still_queued(message: OutboxMessage) -> None:
    if message.status == OutboxMessage.Status.SENDING:
        raise NotificationError(_("This message is being sent right now."), code="message_sending")
    if message.status != OutboxMessage.Status.QUEUED:
        raise NotificationError(
            _("This message is no longer waiting to be sent (%(status)s).")
            % {"status": message.get_status_display()},
            code="message_not_queued",
        )


@transaction.atomic
def retry_message_now(message: OutboxMessage, *, by: User | None) -> OutboxMessage:
    """Try a waiting or failing message again now, inside or outside the recipient's hours (staff asked)."""
    locked = _locked(message)
    _check_still_queued(locked)
    now = timezone.now()
    locked.deliver_after = now
    locked.dispatched_at = now
    locked.save(update_fields=["deliver_after", "dispatched_at"])
    dispatch_after_commit([locked.pk])
    return locked


@transaction.atomic
def give_up_message(message: OutboxMessage, *, by: User) -> OutboxMessage:
    """A person stops trying a message that keeps failing: it is failed, with its last error, for good.

    No fallback channel is tried (the person decided); "Send again" can still send a copy later.
    """
    locked = _locked(message)
    _check_still_queued(locked)
    fail_message(locked, locked.last_error or _("Given up before it was sent."), by=by)
    return locked


@transaction.atomic
def cancel_queued_messages(
    *, key: str = "", key_prefix: str = "", by: User | None = None, note: str = ""
) -> int:
    """Withdraw messages not sent yet: the one with idempotency key `key` and its fallbacks, or every
    one whose key starts with `key_prefix` (a cancelled booking's reminders: "booking:42:"). Returns
    how many were withdrawn; they stay in the log as withdrawn, with `note` saying why.

    A message a worker is sending at this moment cannot be withdrawn and is not counted.
    """
    if bool(key) == bool(key_prefix):
        raise NotificationError(_("Name one message key or one key prefix to withdraw."), code="cancel_scope")
    if key_prefix and len(key_prefix) < 3:
        raise NotificationError(_("The key prefix is too short to be safe."), code="cancel_scope")
    scope = (
        Q(idempotency_key=key) | Q(idempotency_key__startswith=f"{key}>")
        if key
        else Q(idempotency_key__startswith=key_prefix)
    )
    return OutboxMessage.objects.filter(scope, status=OutboxMessage.Status.QUEUED).update(
        status=OutboxMessage.Status.CANCELLED,
        reason=OutboxMessage.Reason.WITHDRAWN,
        reason_detail=note[:300],
        given_up_by=by,
    )
