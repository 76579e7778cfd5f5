"""Reads of notifications: delivery logs for staff, the client's inbox, and feedback for staff."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet

from orderflow.accounts.models import Contact
from orderflow.notifications.models import FeedbackRequest, InboxNotification, OutboxMessage
from orderflow.pipelines.models import Order

FAILING = "failing"  # a status filter of the log: queued, but the last attempt failed


def messages_for_order(order: Order) -> QuerySet[OutboxMessage]:
    """The order's messages, newest first, for its delivery log (queued, waiting, sent, failed)."""
    return (
        OutboxMessage.objects.filter(order=order)
        .select_related("contact", "given_up_by")
        .order_by("-created_at", "-id")
    )


def delivery_log(*, status: str = "", channel: str = "", search: str = "") -> QuerySet[OutboxMessage]:
    """Every message, newest first, optionally one status (or "failing"), one channel, or a
    recipient/subject match."""
    messages = OutboxMessage.objects.select_related("contact", "order__pipeline", "given_up_by").order_by(
        "-created_at", "-id"
    )
    if status == FAILING:
        messages = messages.filter(status=OutboxMessage.Status.QUEUED, attempts__gt=0).exclude(last_error="")
    elif status:
        messages = messages.filter(status=status)
    if channel:
        messages = messages.filter(channel=channel)
    if search:
        messages = messages.filter(Q(recipient__icontains=search) | Q(subject__icontains=search))
    return messages


def inbox_of(contact: Contact) -> QuerySet[InboxNotification]:
    return InboxNotification.objects.filter(contact=contact).select_related("order__pipeline")


def unread_count(contact: Contact) -> int:
    """How many portal notifications the contact has not opened yet (for the badge)."""
    return InboxNotification.objects.filter(contact=contact, read_at__isnull=True).count()


def feedback_for_order(order: Order) -> FeedbackRequest | None:
    """The order's feedback request (asked, maybe answered), for its card."""
    return FeedbackRequest.objects.filter(order=order).first()


@dataclass(frozen=True)
class RatingBar:
    rating: int
    count: int
    percent: int


@dataclass(frozen=True)
class FeedbackSummary:
    asked: int
    answered: int
    average: float | None
    bars: list[RatingBar]

    @property
    def most(self) -> int:
        return max((bar.count for bar in self.bars), default=0)


def feedback_summary() -> FeedbackSummary:
    """How many were asked and answered, the average rating and how many gave each rating: one query."""
    figures = FeedbackRequest.objects.aggregate(
        asked=Count("id"),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        average=Avg("rating", filter=Q(answered_at__isnull=False)),
        **{f"r{rating}": Count("id", filter=Q(rating=rating)) for rating in range(1, 6)},
    )
    answered = figures["answered"] or 0
    bars = [
        RatingBar(
            rating=rating,
            count=figures[f"r{rating}"],
            percent=round(100 * figures[f"r{rating}"] / answered) if answered else 0,
        )
        for rating in range(5, 0, -1)
    ]
    average = figures["average"]
    return FeedbackSummary(
        asked=figures["asked"],
        answered=answered,
        average=round(float(average), 2) if average is not None else None,
        bars=bars,
    )


def answered_feedback(*, rating: int | None = None) -> QuerySet[FeedbackRequest]:
    """Answers, newest first, with what a report row shows already joined."""
    answers = FeedbackRequest.objects.filter(answered_at__isnull=False).select_related(
        "order__pipeline", "contact"
    )
    if rating is not None:
        answers = answers.filter(rating=rating)
    return answers.order_by("-answered_at", "-id")
