"""What happens after an order event is committed.

Today one built-in reaction: a stage change the client should hear about e-mails the client.
Configurable rules (issue #6) will be matched here, each action keyed by (rule, event).
"""

from __future__ import annotations

from orderflow.notifications.services import notify_client_of_stage_change
from orderflow.pipelines.models import OrderEvent


def react_to_event(event: OrderEvent) -> None:
    """Run every reaction to `event`. Each reaction is idempotent, so a retried task never acts twice."""
    if event.kind == OrderEvent.Kind.STAGE_CHANGED:
        notify_client_of_stage_change(event)
