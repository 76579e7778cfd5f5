"""The outbox (one row per message and its attachments), message templates, Apprise endpoints, the
portal inbox, unsubscribed addresses, the client's feedback after an order is done and the history of
contacts' message preferences."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import Language


class Channel(models.TextChoices):
    """The ways a message reaches someone; the values match accounts.Contact.Channel."""

    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    MESSENGER = "messenger", _("Messenger")
    CALL = "call", _("Phone call")
    PORTAL = "portal", _("Portal inbox")


class OutboxMessage(models.Model):
    """A message waiting for, or done with, delivery. The idempotency key makes queueing repeatable.

    `deliver_after` is the earliest time it may go (the recipient's window, or the next retry after a
    failure); the beat sweep hands due rows to workers and notes when in `dispatched_at`, and a worker
    claims a row by moving it from queued to sending. `fallback_channels` are tried, in order, once this
    channel has failed for good. A message the recipient refused (a channel they opted out of, offers
    after an unsubscribe) ends `suppressed`, one withdrawn by its sender `cancelled`, with `reason`
    saying why: never silently dropped.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Not sent")
        CANCELLED = "cancelled", _("Withdrawn")

    class Reason(models.TextChoices):
        CHANNEL_REFUSED = "channel_refused", _("The client refused this channel.")
        OFFERS_REFUSED = "offers_refused", _("The client does not want offers or feedback requests.")
        ADDRESS_UNSUBSCRIBED = (
            "address_unsubscribed",
            _("This address unsubscribed from offers and feedback requests."),
        )
        WITHDRAWN = "withdrawn", _("Withdrawn before it was sent.")

    idempotency_key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(_("recipient"), max_length=254)
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    order = models.ForeignKey(
        "pipelines.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    # The order event the message is about (re-rendered from it when falling back to another channel).
    event = models.ForeignKey(
        "pipelines.OrderEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_event = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=8, default="en")
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(blank=True)
    reply_to = models.CharField(max_length=254, blank=True)
    is_transactional = models.BooleanField(
        default=True, help_text="False for offers and feedback requests: those honour unsubscribes."
    )
    is_urgent = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(_("why"), max_length=24, choices=Reason.choices, blank=True)
    reason_detail = models.CharField(max_length=300, blank=True)
    deliver_after = models.DateTimeField(_("not before"), default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    fallback_channels = models.JSONField(default=list, blank=True)
    fallback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="fallbacks"
    )
    # The links.* placeholders it was rendered with, so a fallback on another channel carries them too.
    links = models.JSONField(default=dict, blank=True)
    # Saves the worker a query per message: most messages have no attachments.
    has_attachments = models.BooleanField(default=False)
    given_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "deliver_after"], name="notifications_outbox_due"),
            models.Index(fields=["order", "-created_at"], name="notifications_outbox_order"),
            models.Index(fields=["status", "dispatched_at"], name="notifications_outbox_inflight"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="sent", sent_at__isnull=False) | ~models.Q(status="sent"),
                name="notifications_outbox_sent_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient}: {self.subject}"

    @property
    def is_waiting(self) -> bool:
        """Queued for later than now: outside the recipient's hours or waiting to retry."""
        return self.status == self.Status.QUEUED and self.deliver_after > timezone.now()

    @property
    def is_failing(self) -> bool:
        """Still to be sent, but the last attempt failed: staff may retry now or give up."""
        return self.status == self.Status.QUEUED and self.attempts > 0 and bool(self.last_error)


class OutboxAttachment(models.Model):
    """A file sent with an outbox message (a calendar .ics, an invoice PDF); a resend carries it again."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=120)
    content = models.BinaryField()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class UnsubscribedAddress(models.Model):
    """An e-mail address that asked for no offers or feedback requests (lower-cased), with or without a
    contact: it holds even for mail queued to the address alone."""

    email = models.CharField(_("e-mail"), max_length=254, unique=True)
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("unsubscribed address")
        verbose_name_plural = _("unsubscribed addresses")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class MessageTemplate(models.Model):
    """Staff's own wording for one event on one channel in one language; overrides the shipped default.

    Placeholders are checked when saved (notifications.rendering.check_template): an unknown one is
    refused with its name, so a typo never reaches a client.
    """

    class Event(models.TextChoices):
        STAGE_CHANGED = "order.stage_changed", _("Order moved to a stage")
        FEEDBACK_REQUEST = "feedback.request", _("Feedback request")

    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    subject = models.CharField(
        _("subject or title"), max_length=300, blank=True, help_text=_("E-mail subject, task or inbox title.")
    )
    body = models.TextField(_("text"))
    upsell = models.TextField(
        _("offer (optional)"),
        blank=True,
        help_text=_("Shown where the text says {{ upsell }}; left out for clients who do not want offers."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["event", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "channel", "language"], name="notifications_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} · {self.get_channel_display()} · {self.language}"

    def clean(self) -> None:
        super().clean()
        from orderflow.notifications.rendering import TemplateProblem, check_template

        errors: dict[str, str] = {}
        for field in ("subject", "body", "upsell"):
            try:
                check_template(getattr(self, field))
            except TemplateProblem as problem:
                errors[field] = problem.message
        if errors:
            raise ValidationError(errors)


class AppriseEndpoint(models.Model):
    """Where SMS or messenger messages go: an Apprise URL set by an admin (Twilio, Telegram, JSON …).

    `{phone}` and `{messenger}` in the URL are replaced by the recipient's phone number or messenger
    id, URL-encoded, e.g. `twilio://SID:TOKEN@+15550001111/{phone}`.
    """

    channel = models.CharField(
        _("channel"),
        max_length=16,
        choices=[(Channel.SMS.value, Channel.SMS.label), (Channel.MESSENGER.value, Channel.MESSENGER.label)],
        unique=True,
    )
    url = models.CharField(_("Apprise URL"), max_length=1000)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SMS or messenger service")
        verbose_name_plural = _("SMS and messenger services")
        ordering = ["channel"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}"

    def clean(self) -> None:
        super().clean()
        from orderflow.notifications.channels.apprise import check_apprise_url

        try:
            check_apprise_url(self.url)
        except ValueError as error:
            raise ValidationError({"url": str(error)}) from None


class InboxNotification(models.Model):
    """A notification in the client's portal inbox; one per outbox message, so a retry adds nothing."""

    message = models.OneToOneField(OutboxMessage, on_delete=models.CASCADE, related_name="inbox_item")
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE, related_name="inbox")
    order = models.ForeignKey(
        "pipelines.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("inbox notification")
        verbose_name_plural = _("inbox notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "read_at"], name="notifications_inbox_unread")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class FeedbackRequest(models.Model):
    """The client's rating (1-5) and comment on a finished order, asked for once per order.

    The link's token is an HMAC of `salt` under the site's secret key (a message can be rendered again
    on a fallback channel with the same link); the table keeps the token's SHA-256 only. Answered once:
    `answered_at` is set by a conditional UPDATE, so a double submit records one answer.
    """

    order = models.OneToOneField("pipelines.Order", on_delete=models.CASCADE, related_name="feedback")
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        "pipelines.OrderEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    salt = models.CharField(max_length=32, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("link expires"))
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    created_at = models.DateTimeField(_("asked"), default=timezone.now)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-answered_at", "-id"]
        indexes = [models.Index(fields=["answered_at"], name="notifications_feedback_answer")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="notifications_feedback_rating_1_5",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True, answered_at__isnull=True)
                | models.Q(rating__isnull=False, answered_at__isnull=False),
                name="notifications_feedback_answer_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.rating or '-'}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class PreferenceChange(models.Model):
    """Who changed a contact's message preferences, how, and what: before and after of each field that
    changed, as JSON values (times as "HH:MM", channels and days as lists). Written by the preferences
    service; staff read the latest on the contact's preferences page. Contacts are not orders, so this
    is not an OrderEvent."""

    class Source(models.TextChoices):
        STAFF = "staff", _("By staff")
        CLIENT = "client", _("By the client, on their message settings page")
        UNSUBSCRIBE = "unsubscribe", _("By the client, with the unsubscribe link")
        FORM = "form", _("By the client, answering a form")
        SYSTEM = "system", _("Not by a person")

    contact = models.ForeignKey(
        "accounts.Contact", on_delete=models.CASCADE, related_name="preference_changes"
    )
    source = models.CharField(_("changed by"), max_length=12, choices=Source.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changes = models.JSONField(_("changes"), default=dict)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("preference change")
        verbose_name_plural = _("preference changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "-created_at"], name="notifications_pref_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {', '.join(self.changes)}"
