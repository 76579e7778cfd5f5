"""Pipelines, stages, orders and order events (the timeline)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #3b82f6."))
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

    @property
    def is_closed(self) -> bool:
        return self.category in {self.Category.WON, self.Category.LOST, self.Category.CANCELLED}


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
    stage_entered_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        permissions = [("move_order", "Can move an order to another stage")]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "number"], name="pipelines_order_number_unique"),
        ]
        indexes = [
            models.Index(fields=["pipeline", "stage"], name="pipelines_order_board"),
            models.Index(fields=["client"], name="pipelines_order_client"),
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

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="pipelines_event_timeline")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.order_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Order events are append-only and cannot be changed.")
        super().save(*args, **kwargs)
