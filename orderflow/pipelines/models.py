"""Pipelines, stages, orders and order events (the timeline)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #3b82f6."))
currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter currency code such as EUR."))
prefix_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,7}$", _("Use 2 to 8 capital letters or digits, e.g. WEB.")
)


class Pipeline(models.Model):
    """An order type with its own ordered stages, e.g. "Website project"."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    number_prefix = models.CharField(
        _("number prefix"), max_length=8, unique=True, validators=[prefix_validator]
    )
    description = models.TextField(_("description"), blank=True)
    currency = models.CharField(
        _("currency of order values"), max_length=3, default="EUR", validators=[currency_validator]
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The last order number handed out; incremented under a row lock by create_order.
    last_number = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """One step of a pipeline. Its category says whether an order there is open, paused or finished."""

    class Category(models.TextChoices):
        OPEN = "open", _("Open")
        ON_HOLD = "on_hold", _("On hold")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        CANCELLED = "cancelled", _("Cancelled")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    key = models.SlugField(_("key"), max_length=60, help_text=_("Stable name used by rules and templates."))
    name = models.CharField(_("name"), max_length=120)
    client_label = models.CharField(
        _("label the client sees"),
        max_length=120,
        blank=True,
        help_text=_("Empty: the client sees the name."),
    )
    client_description = models.CharField(_("what it means for the client"), max_length=300, blank=True)
    # {"pt": "...", "ru": "..."}: the client label in other languages; English is client_label.
    client_label_translations = models.JSONField(_("label in other languages"), default=dict, blank=True)
    # {"pt": "...", "ru": "..."}: the client description in other languages; English is client_description.
    client_description_translations = models.JSONField(
        _("description in other languages"), default=dict, blank=True
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices, default=Category.OPEN)
    color = models.CharField(_("colour"), max_length=7, default="#64748b", validators=[color_validator])
    is_side = models.BooleanField(
        _("side status"),
        default=False,
        help_text=_("Outside the main path (e.g. On hold); settable from any stage by hand."),
    )
    notify_client = models.BooleanField(
        _("tell the client"), default=True, help_text=_("E-mail the client when an order enters this stage.")
    )
    # Guards, checked by pipelines.services.check_can_move. Empty lists mean "no restriction".
    allowed_roles = models.JSONField(
        _("roles that may set it by hand"), default=list, blank=True, help_text=_("Empty: every staff role.")
    )
    allowed_from = models.JSONField(
        _("may be entered from"), default=list, blank=True, help_text=_("Stage keys; empty: from any stage.")
    )
    required_fields = models.JSONField(
        _("fields required to enter"), default=list, blank=True, help_text=_("Keys of the pipeline's fields.")
    )
    max_days = models.PositiveSmallIntegerField(
        _("maximum days in stage"), null=True, blank=True, help_text=_("An order here longer is overdue.")
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "key"], name="pipelines_stage_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def label_for_client(self) -> str:
        return self.client_label or self.name

    def label_for_client_in(self, language: str) -> str:
        """The label in `language` if the pipeline gives one, else the English client label."""
        translated = (self.client_label_translations or {}).get(language)
        return str(translated) if translated else self.label_for_client

    def description_for_client_in(self, language: str) -> str:
        """The client description in `language` if the pipeline gives one, else the English one ("" if none)."""
        translated = (self.client_description_translations or {}).get(language)
        return str(translated) if translated else self.client_description

    def snapshot(self) -> dict[str, Any]:
        """What a timeline event keeps of the stage, so it stays readable after the stage is deleted."""
        return {"id": self.pk, "key": self.key, "name": self.name}

    @property
    def is_closed(self) -> bool:
        return self.category in {self.Category.WON, self.Category.LOST, self.Category.CANCELLED}


class FieldDefinition(models.Model):
    """A custom field of a pipeline's orders, e.g. "Domain name" (text) or "Budget" (money)."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        MONEY = "money", _("Money")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        URL = "url", _("Link")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(_("key"), max_length=60)
    label = models.CharField(_("label"), max_length=120)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    is_required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("field")
        verbose_name_plural = _("fields")
        ordering = ["pipeline_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "key"], name="pipelines_field_key_unique")]

    def __str__(self) -> str:
        return self.label


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """A long piece of work for one client, moving through the stages of its pipeline."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="orders")
    number = models.PositiveIntegerField(_("number"), editable=False)
    title = models.CharField(_("title"), max_length=200)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="orders")
    client = models.ForeignKey("accounts.Contact", on_delete=models.PROTECT, related_name="orders")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_orders",
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("watchers"), blank=True, related_name="watched_orders"
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="orders")
    value = models.DecimalField(
        _("value"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    # Custom field values by FieldDefinition.key, validated by pipelines.custom_fields.
    fields = models.JSONField(_("fields"), default=dict, blank=True)
    # Where the order was before entering a side status; leaving the side status goes back here.
    return_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage_entered_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("move_order", "Can move an order to another stage"),
            ("view_order_reports", "Can see the pipeline reports (funnel, time in stage)"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "number"], name="pipelines_order_number_unique"),
        ]
        indexes = [
            models.Index(fields=["pipeline", "stage", "-stage_entered_at"], name="pipelines_order_board"),
            models.Index(fields=["client"], name="pipelines_order_client"),
            # The funnel report: the orders a pipeline opened in a period.
            models.Index(fields=["pipeline", "created_at"], name="pipelines_order_opened"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        """The number people quote, e.g. WEB-00042."""
        return f"{self.pipeline.number_prefix}-{self.number:05d}"


class OrderEvent(models.Model):
    """One thing that happened to an order. Append-only: the timeline is these rows."""

    class Kind(models.TextChoices):
        CREATED = "order.created", _("Order created")
        STAGE_CHANGED = "order.stage_changed", _("Stage changed")
        UPDATED = "order.updated", _("Order updated")
        TASK_CREATED = "task.created", _("Task created")
        TASK_DONE = "task.done", _("Task done")
        REQUEST_SENT = "request.sent", _("Request sent")
        REQUEST_CHANGED = "request.changed", _("Request changed")
        REQUEST_SUBMITTED = "request.submitted", _("Request answered")
        REQUEST_REOPENED = "request.reopened", _("Request reopened")
        REQUEST_CANCELLED = "request.cancelled", _("Request cancelled")
        BOOKING_INVITED = "booking.invited", _("Booking link sent")
        BOOKING_MADE = "booking.made", _("Call booked")
        BOOKING_RESCHEDULED = "booking.rescheduled", _("Call rescheduled")
        BOOKING_CANCELLED = "booking.cancelled", _("Call cancelled")
        MESSAGE_SENT = "message.sent", _("Message sent")
        MESSAGE_RECEIVED = "message.received", _("Message received")
        NOTIFICATION_SENT = "notification.sent", _("Notification sent")
        NOTIFICATION_FAILED = "notification.failed", _("Notification failed")
        REMINDER_SENT = "reminder.sent", _("Reminder sent")
        REMINDERS_STOPPED = "reminders.stopped", _("Reminders stopped")
        FEEDBACK_RECEIVED = "feedback.received", _("Feedback received")
        PAYMENT_RECEIVED = "payment.received", _("Payment received")
        RULE_ACTED = "rule.acted", _("Automation acted")

    class Audience(models.TextChoices):
        INTERNAL = "internal", _("Staff only")
        CLIENT = "client", _("Client and staff")
        CONTRACTOR = "contractor", _("Contractor and staff")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    audience = models.CharField(max_length=12, choices=Audience.choices, default=Audience.INTERNAL)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # For a stage change: when the order had entered from_stage, so time in stage is one subtraction
    # (reports); empty on other events and on moves recorded before this was kept.
    from_stage_entered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["order", "created_at"], name="pipelines_event_timeline"),
            # The time-in-stage report: moves out of a pipeline's stages in a period.
            models.Index(fields=["from_stage", "created_at"], name="pipelines_event_left_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.order_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Order events are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    @property
    def from_stage_name(self) -> str:
        """The stage the order left: its current name, or the name kept when the event was recorded."""
        if self.from_stage is not None:
            return self.from_stage.name
        data = self.data or {}
        kept = data.get("from_stage") or data.get("deleted_stage") or {}
        return str(kept.get("name", "")) if isinstance(kept, dict) else ""

    @property
    def to_stage_name(self) -> str:
        """The stage the order entered: its current name, or the name kept when the event was recorded."""
        if self.to_stage is not None:
            return self.to_stage.name
        kept = (self.data or {}).get("to_stage") or {}
        return str(kept.get("name", "")) if isinstance(kept, dict) else ""


class StaffTask(models.Model):
    """Something a staff member must do, usually about an order ("call the client to review answers")."""

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("task"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="tasks"
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done_at", "due_at", "id"]
        indexes = [models.Index(fields=["assignee", "done_at", "due_at"], name="pipelines_task_mine")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class SavedView(models.Model):
    """A named set of list filters, kept for its owner or shared with all staff."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000, help_text=_("The list's query string."))
    is_shared = models.BooleanField(_("shared with all staff"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="pipelines_savedview_name_unique")
        ]

    def __str__(self) -> str:
        return self.name
