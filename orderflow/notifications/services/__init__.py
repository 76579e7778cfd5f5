"""Writes of notifications, by sub-topic: queueing (idempotent, in the recipient's hours, refusals
recorded as suppressed), delivery (workers only: sweep, claim, sent, retries, fallbacks), message
actions (send again, retry now, give up, withdraw), staff's template wording, the portal inbox.

Callers import from here: `from orderflow.notifications.services import queue_email`.
"""

from orderflow.notifications.services.delivery import (
    MAX_ATTEMPTS,
    MAX_IN_FLIGHT,
    SWEEP_BATCH,
    claim_timeout,
    deliver,
    deliver_batch,
    deliver_due_messages,
    retry_delay,
)
from orderflow.notifications.services.inbox import mark_inbox_read
from orderflow.notifications.services.message_actions import (
    cancel_queued_messages,
    give_up_message,
    resend_message,
    retry_message_now,
)
from orderflow.notifications.services.queueing import (
    DISPATCH_CHUNK,
    MAX_ATTACHMENT_BYTES,
    Attachment,
    NotificationError,
    check_attachments,
    earliest_delivery,
    is_address_unsubscribed,
    links_for_stage_change,
    notify_client_of_stage_change,
    notify_contact,
    offers_allowed,
    queue_email,
    queue_message,
    reachable_channels,
    suppression_reason,
    window_of,
)
from orderflow.notifications.services.templates import (
    TemplateError,
    reset_message_template,
    save_message_template,
)

__all__ = [
    "DISPATCH_CHUNK",
    "MAX_ATTACHMENT_BYTES",
    "MAX_ATTEMPTS",
    "MAX_IN_FLIGHT",
    "SWEEP_BATCH",
    "Attachment",
    "NotificationError",
    "TemplateError",
    "cancel_queued_messages",
    "check_attachments",
    "claim_timeout",
    "deliver",
    "deliver_batch",
    "deliver_due_messages",
    "earliest_delivery",
    "give_up_message",
    "is_address_unsubscribed",
    "links_for_stage_change",
    "mark_inbox_read",
    "notify_client_of_stage_change",
    "notify_contact",
    "offers_allowed",
    "queue_email",
    "queue_message",
    "reachable_channels",
    "resend_message",
    "reset_message_template",
    "retry_delay",
    "retry_message_now",
    "save_message_template",
    "suppression_reason",
    "window_of",
]
