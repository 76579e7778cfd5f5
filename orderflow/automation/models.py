"""Rules, reminder sequences, the reminders running on orders, rule runs and the schedule of due work."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_REMINDER_DAYS = (5, 10, 15, 20)


class ScheduledJob(models.Model):
    """One piece of work due at a time (a reminder step, a rule action, an inactivity check).

    The beat sweep claims due rows in bounded batches and hands each to a worker; the idempotency
    key makes scheduling repeatable, so a retried task never schedules the same work twice.
    """

    class Kind(models.TextChoices):
        REMINDER_STEP = "reminder.step", _("Reminder")
        RULE_ACTION = "rule.action", _("Automation action")
        INACTIVITY_CHECK = "rule.inactivity", _("Inactivity check")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(_("due"))
    payload = models.JSONField(default=dict, blank=True)
    order = models.ForeignKey(
        "pipelines.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="scheduled_jobs"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set when a sweep claims the row; a row still running long after this is claimed again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="automation_job_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key} ({self.status})"


class ReminderSequence(models.Model):
    """ "If the awaited thing has not happened, remind after 5, 10, 15, 20 business days", per pipeline.

    It starts on an event (`start_kind`, e.g. request.sent, or a stage being entered) and stops on an
    answering event (`stop_kinds`) that carries the same id under `match_key` (e.g. the same request).
    `steps` is a list of {"days": int, "subject": {lang: text}, "body": {lang: text}}: business days
    after the start, each with its own message; placeholders as in automation.messages.
    """

    pipeline = models.ForeignKey(
        "pipelines.Pipeline", on_delete=models.CASCADE, related_name="reminder_sequences"
    )
    key = models.SlugField(_("key"), max_length=60)
    name = models.CharField(_("name"), max_length=120)
    start_kind = models.CharField(_("starts when"), max_length=40)
    # For stage triggers: the stage entered; reminders also stop when the order leaves it.
    start_stage = models.CharField(_("stage"), max_length=60, blank=True)
    # For request triggers: only requests from this form (the event's data["form"]); empty: any.
    start_form = models.CharField(_("form"), max_length=60, blank=True)
    stop_kinds = models.JSONField(_("stops when"), default=list)
    match_key = models.CharField(max_length=20, blank=True)
    send_at = models.TimeField(_("time of day"), default=datetime.time(9, 0))
    steps = models.JSONField(_("steps"), default=list)
    escalate = models.BooleanField(_("task for the owner after the last reminder"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reminder sequence")
        verbose_name_plural = _("reminder sequences")
        ordering = ["pipeline_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "key"], name="automation_sequence_key_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Reminder(models.Model):
    """A reminder sequence running on one order since one start event, until answered or finished."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ANSWERED = "answered", _("Answered")
        STOPPED = "stopped", _("Stopped")
        FINISHED = "finished", _("Finished")

    sequence = models.ForeignKey(ReminderSequence, on_delete=models.CASCADE, related_name="reminders")
    order = models.ForeignKey("pipelines.Order", on_delete=models.CASCADE, related_name="reminders")
    start_event = models.ForeignKey("pipelines.OrderEvent", on_delete=models.CASCADE, related_name="+")
    # The id of the awaited thing (e.g. the request's id as text); empty when the sequence has no match key.
    awaited_id = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField()
    next_step = models.PositiveSmallIntegerField(default=0)  # index into the sequence's steps
    next_due_at = models.DateTimeField(null=True, blank=True)
    stopped_reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["next_due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "start_event"], name="automation_reminder_once")
        ]
        indexes = [models.Index(fields=["order", "status"], name="automation_reminder_order")]

    def __str__(self) -> str:
        return f"{self.sequence} on {self.order_id}"


class Rule(models.Model):
    """An auto-action: when `trigger` happens and every condition holds, run the actions in order.

    trigger:    {"kind": see automation.definitions.TRIGGERS, "stage": key, "days": n}
    conditions: [{"field": "stage" | "fields.<key>" | "client.language" | …, "op": …, "value": …}]
    actions:    [{"type": see automation.definitions.ACTIONS, …}]
    Checked by automation.definitions before saving, so a rule never names a missing stage or field.
    """

    pipeline = models.ForeignKey("pipelines.Pipeline", on_delete=models.CASCADE, related_name="rules")
    key = models.SlugField(_("key"), max_length=60)
    name = models.CharField(_("name"), max_length=120)
    trigger = models.JSONField(_("trigger"), default=dict)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["pipeline_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "key"], name="automation_rule_key_unique")]

    def __str__(self) -> str:
        return self.name


class RuleRun(models.Model):
    """One rule evaluated against one event: at most one per (rule, event), so a retry never acts twice."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", _("Matched")
        SKIPPED = "skipped", _("Skipped")
        ACTED = "acted", _("Acted")
        FAILED = "failed", _("Failed")
        LOOP_STOPPED = "loop_stopped", _("Stopped: loop")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    event = models.ForeignKey("pipelines.OrderEvent", on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey("pipelines.Order", on_delete=models.CASCADE, related_name="rule_runs")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.CharField(max_length=300, blank=True)
    # One entry per action: {"type": …, "status": "pending" | "done" | "failed", "detail": …}.
    actions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "event"], name="automation_rule_run_once")]

    def __str__(self) -> str:
        return f"{self.rule} on event {self.event_id}: {self.outcome}"


class EventCause(models.Model):
    """Which rule run wrote an event, and the chain of rules before it: the loop guard reads this."""

    event = models.OneToOneField("pipelines.OrderEvent", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    chain = models.JSONField(default=list)  # rule ids, oldest first, ending with `rule`

    class Meta:
        verbose_name = _("event cause")
        verbose_name_plural = _("event causes")

    def __str__(self) -> str:
        return f"event {self.event_id} by rule {self.rule_id}"


class Assignment(models.Model):
    """When a rule last gave someone an order, so round-robin picks the least recently assigned."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="+")
    last_assigned_at = models.DateTimeField()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self) -> str:
        return f"{self.user_id} at {self.last_assigned_at}"
