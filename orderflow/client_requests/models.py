"""Form templates and their versions, requests sent for orders, recipients, answers, files, submissions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from orderflow.accounts.models import Language


def private_storage() -> FileSystemStorage:
    """Uploaded answers live outside MEDIA_ROOT and have no public URL; staff download them through a view."""
    return FileSystemStorage(location=settings.DATA_DIR / "private", base_url=None)


class FormTemplate(models.Model):
    """A questionnaire: in the library (`is_template`), built for one order's ad-hoc request (`order`), or
    one sent request's own copy of its questions (`client_request`), so editing it changes that request only."""

    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    is_template = models.BooleanField(_("in the templates library"), default=True)
    order = models.ForeignKey(
        "pipelines.Order",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="adhoc_forms",
        help_text=_("The order an ad-hoc form was built for."),
    )
    client_request = models.OneToOneField(
        "ClientRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="own_form",
        help_text=_(
            "The request whose questions this is: a copy made when staff edit one request's questions."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("form")
        verbose_name_plural = _("forms")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def latest_version(self) -> FormVersion:
        return self.versions.order_by("-number").first() or FormVersion(form=self, number=0, definition={})


class FormVersion(models.Model):
    """One definition of a form (questions and moves as JSON). Frozen once a request uses it."""

    form = models.ForeignKey(FormTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # {"questions": [{"key", "type", "label", ...}], "moves": {"on_submit", "question", "values"}}
    definition = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("form version")
        verbose_name_plural = _("form versions")
        ordering = ["form_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="client_requests_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.form} v{self.number}"

    @property
    def questions(self) -> list[dict[str, Any]]:
        return list((self.definition or {}).get("questions", []))

    @property
    def moves(self) -> dict[str, Any]:
        return dict((self.definition or {}).get("moves", {}))


class ClientRequest(models.Model):
    """Questions sent for an order to its client and/or others, answered through secret links."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        STARTED = "started", _("Being answered")
        SUBMITTED = "submitted", _("Answered")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey("pipelines.Order", on_delete=models.CASCADE, related_name="client_requests")
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="requests")
    title = models.CharField(_("title"), max_length=200)
    message = models.TextField(_("message"), blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # Counts submissions; reopening lets the next one be number + 1 (unique per request).
    submission_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("client request")
        verbose_name_plural = _("client requests")
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["order", "-sent_at"], name="client_requests_of_order"),
            models.Index(fields=["status", "sent_at"], name="client_requests_pending"),
        ]

    def __str__(self) -> str:
        return self.title

    def form_name(self) -> str:
        """The library form this request was sent from (its own edited copy names the source form), as
        sequences and rules name it; an ad-hoc request's form has its own name."""
        form = self.form_version.form
        return form.description if form.client_request_id == self.pk else form.name

    @property
    def is_open(self) -> bool:
        """May still be answered (not submitted, not cancelled)."""
        return self.status in {self.Status.PENDING, self.Status.STARTED}

    @property
    def is_editable(self) -> bool:
        """Staff may change questions and settings only while nobody has started answering."""
        return self.status == self.Status.PENDING


class Recipient(models.Model):
    """One person a request went to, with their own secret link (only its SHA-256 is stored)."""

    request = models.ForeignKey(ClientRequest, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default="en")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("link expires"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_client(self) -> bool:
        return self.contact_id is not None and self.contact_id == self.request.order.client_id


class Answer(models.Model):
    """The current answer to one question. One row per question, so two tabs saving different fields never collide."""

    request = models.ForeignKey(ClientRequest, on_delete=models.CASCADE, related_name="answers")
    question_key = models.CharField(max_length=60)
    value = models.JSONField(null=True, blank=True)
    updated_by = models.ForeignKey(
        Recipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["request", "question_key"], name="client_requests_answer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.question_key}: {self.value!r}"


class AnswerFile(models.Model):
    """A file uploaded to a file question, stored privately; its type was checked by its content."""

    request = models.ForeignKey(ClientRequest, on_delete=models.CASCADE, related_name="files")
    question_key = models.CharField(max_length=60)
    file = models.FileField(storage=private_storage, upload_to="requests/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        Recipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["request", "question_key"], name="client_requests_file_q")]

    def __str__(self) -> str:
        return self.original_name


class Submission(models.Model):
    """A request sent in: the answers as they were, frozen. Unique per (request, number): a double submit makes one."""

    request = models.ForeignKey(ClientRequest, on_delete=models.CASCADE, related_name="submissions")
    number = models.PositiveIntegerField()
    recipient = models.ForeignKey(
        Recipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answers = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["request_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="client_requests_submission_unique")
        ]

    def __str__(self) -> str:
        return f"{self.request} #{self.number}"
