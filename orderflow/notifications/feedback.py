"""The client's feedback on a finished order: asked for when the order enters a won stage, answered once
on a public page reached by a secure link, shown on the order and in the staff report."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from orderflow.errors import DomainError
from orderflow.notifications.models import FeedbackRequest, MessageTemplate
from orderflow.pipelines.models import OrderEvent, Stage
from orderflow.pipelines.services import record_event

LINK_DAYS = 60
COMMENT_MAX_LENGTH = 4000


class FeedbackError(DomainError):
    code = "feedback_invalid"


class FeedbackLinkError(FeedbackError):
    """The link is unknown (mistyped, tampered with) or expired; `code` says which."""

    code = "feedback_link_unknown"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_for(salt: str) -> str:
    """The URL token for a feedback request's salt: an HMAC under SECRET_KEY (256 bits)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"orderflow.notifications.feedback:{salt}".encode(), "sha256"
    )
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def feedback_url(feedback: FeedbackRequest) -> str:
    return settings.BASE_URL + reverse("notifications:feedback", args=[token_for(feedback.salt)])


def is_feedback_stage(stage: Stage | None) -> bool:
    """Entering this stage asks the client for feedback: a won (delivered, launched) stage."""
    return stage is not None and stage.category == Stage.Category.WON


@transaction.atomic
def request_feedback(event: OrderEvent, *, now: datetime.datetime | None = None) -> FeedbackRequest | None:
    """Ask the order's client for feedback after `event` moved the order into a won stage.

    Once per order: entering a won stage again (or a retried automation task) asks nothing new. The
    message goes on the client's channel, in their language and hours (notify_contact); it is an
    offer-like message, so a client who unsubscribed gets it suppressed, visibly. None when the event
    is not such a move.
    """
    if event.kind != OrderEvent.Kind.STAGE_CHANGED or not is_feedback_stage(event.to_stage):
        return None
    from orderflow.notifications.services import notify_contact

    order = event.order
    existing = FeedbackRequest.objects.filter(order=order).first()
    if existing is not None:
        return existing
    salt = secrets.token_hex(16)
    try:
        with transaction.atomic():
            feedback = FeedbackRequest.objects.create(
                order=order,
                contact=order.client,
                event=event,
                salt=salt,
                token_hash=_hash(token_for(salt)),
                expires_at=(now or timezone.now()) + datetime.timedelta(days=LINK_DAYS),
            )
    except IntegrityError:  # another worker asked at the same moment
        return FeedbackRequest.objects.get(order=order)
    notify_contact(
        order.client,
        template_event=MessageTemplate.Event.FEEDBACK_REQUEST,
        key=f"feedback:{feedback.pk}",
        order=order,
        stage=event.to_stage,
        event=event,
        links={"feedback": feedback_url(feedback)},
        is_transactional=False,
    )
    return feedback


def feedback_for_token(token: str, *, now: datetime.datetime | None = None) -> FeedbackRequest:
    """The feedback request behind a link, or FeedbackLinkError (unknown or expired).

    An answered request is returned even after its link expired, so the client sees their answer.
    """
    feedback = (
        FeedbackRequest.objects.select_related("order__pipeline", "contact")
        .filter(token_hash=_hash(token))
        .first()
    )
    if feedback is None:
        raise FeedbackLinkError(
            _("It may be incomplete; please open it again from our message, or simply reply to it."),
            code="feedback_link_unknown",
        )
    if not feedback.is_answered and feedback.expires_at <= (now or timezone.now()):
        raise FeedbackLinkError(
            _("Simply reply to our message if you would still like to tell us something."),
            code="feedback_link_expired",
        )
    return feedback


def check_answer(rating: int | None, comment: str) -> None:
    """FeedbackError unless the rating is 1-5 and the comment is of a readable length."""
    if rating is None or rating not in range(1, 6):
        raise FeedbackError(_("Choose a rating from 1 to 5."), code="feedback_rating")
    if len(comment) > COMMENT_MAX_LENGTH:
        raise FeedbackError(
            _("Please keep the comment under %(count)s characters.") % {"count": COMMENT_MAX_LENGTH},
            code="feedback_comment_long",
        )


@transaction.atomic
def submit_feedback(
    feedback: FeedbackRequest, *, rating: int | None, comment: str, now: datetime.datetime | None = None
) -> tuple[FeedbackRequest, bool]:
    """Record the client's answer once; returns (the request, whether this call recorded it).

    The answer is set by a conditional UPDATE, so of two submits (a double click, two tabs) one
    records and the other changes nothing. The answer becomes a `feedback.received` event on the
    order's timeline, which rules may react to (a low rating → a task for the manager).
    """
    comment = comment.strip()
    check_answer(rating, comment)
    now = now or timezone.now()
    if feedback.expires_at <= now and not feedback.is_answered:
        raise FeedbackLinkError(
            _("Simply reply to our message if you would still like to tell us something."),
            code="feedback_link_expired",
        )
    recorded = FeedbackRequest.objects.filter(pk=feedback.pk, answered_at__isnull=True).update(
        rating=rating, comment=comment, answered_at=now
    )
    feedback.refresh_from_db()
    if recorded:
        record_event(
            feedback.order,
            OrderEvent.Kind.FEEDBACK_RECEIVED,
            by=None,
            audience=OrderEvent.Audience.CLIENT,
            message=_("Rated %(rating)s out of 5") % {"rating": rating}
            + (f": {comment[:300]}" if comment else ""),
            data={"feedback": feedback.pk, "rating": rating},
        )
    return feedback, bool(recorded)
