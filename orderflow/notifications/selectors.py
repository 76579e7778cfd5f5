"""Reads of notifications: delivery logs for staff, the client's inbox, feedback for staff, the channels
a client may choose on their settings page and the history of a contact's preferences."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import Contact, Language, normalise_phone
from orderflow.notifications.models import (
    AppriseEndpoint,
    Channel,
    FeedbackRequest,
    InboxNotification,
    OutboxMessage,
    PreferenceChange,
)
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


# --- Message preferences: what the client may choose, and who changed what ----------------------


@dataclass(frozen=True)
class ClientChannels:
    """The channels a client's own settings page offers (best known first: e-mail, SMS, messenger,
    call). `usable`: the business offers them and the contact can be reached on them (may be put in
    order). `refusable`: the business offers them (may be refused, reachable or not)."""

    usable: list[str]
    refusable: list[str]


def channels_for_client(contact: Contact) -> ClientChannels:
    """SMS and messenger only while an active Apprise service is configured for them; a phone call
    only with a phone number; never the portal inbox, which no client can read yet. One query."""
    configured = set(AppriseEndpoint.objects.filter(is_active=True).values_list("channel", flat=True))
    offered = [
        Channel.EMAIL.value,
        *[channel.value for channel in (Channel.SMS, Channel.MESSENGER) if channel.value in configured],
        Channel.CALL.value,
    ]
    addresses = {
        Channel.EMAIL.value: contact.email,
        Channel.SMS.value: normalise_phone(contact.phone),
        Channel.MESSENGER.value: contact.messenger_id.strip(),
        Channel.CALL.value: contact.phone,
    }
    return ClientChannels(usable=[channel for channel in offered if addresses[channel]], refusable=offered)


@dataclass(frozen=True)
class PreferenceChangeLine:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class PreferenceChangeRow:
    change: PreferenceChange
    lines: list[PreferenceChangeLine]

    @property
    def is_by_client(self) -> bool:
        return self.change.source in (
            PreferenceChange.Source.CLIENT,
            PreferenceChange.Source.FORM,
            PreferenceChange.Source.UNSUBSCRIBE,
        )


_FIELD_LABELS = {
    "channels": _("Channels, in order"),
    "opted_out_channels": _("Never use"),
    "phone": _("Phone"),
    "messenger_id": _("Messenger address"),
    "delivery_window_start": _("Contact from"),
    "delivery_window_end": _("Contact until"),
    "delivery_days": _("On these days"),
    "time_zone": _("Time zone"),
    "language": _("Language"),
    "marketing_opt_out": _("No offers"),
}
_SHORT_WEEKDAYS = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]


def _shown(field: str, value: object) -> str:
    """A recorded value as staff read it: channel and language names, weekdays, yes/no, or a dash."""
    if field in ("channels", "opted_out_channels") and isinstance(value, list):
        labels = dict(Channel.choices)
        return ", ".join(str(labels.get(channel, channel)) for channel in value) or "—"
    if field == "delivery_days" and isinstance(value, list):
        return ", ".join(str(_SHORT_WEEKDAYS[day]) for day in value if day in range(7)) or "—"
    if field == "language":
        return str(dict(Language.choices).get(str(value), value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return str(value) if value not in (None, "") else "—"


def preference_history(contact: Contact, *, limit: int = 10) -> list[PreferenceChangeRow]:
    """The contact's latest preference changes, newest first, each with its lines ready to show
    ("Channels, in order: E-mail → SMS, E-mail"). One query."""
    changes = PreferenceChange.objects.filter(contact=contact).select_related("changed_by")[:limit]
    return [
        PreferenceChangeRow(
            change=change,
            lines=[
                PreferenceChangeLine(
                    str(_FIELD_LABELS.get(field, field)), _shown(field, old), _shown(field, new)
                )
                for field, (old, new) in change.changes.items()
            ],
        )
        for change in changes
    ]
