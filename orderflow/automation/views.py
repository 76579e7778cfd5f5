"""Staff pages of automation: rules and reminder sequences, their run log, failed work, reminder controls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orderflow.automation import selectors
from orderflow.automation.forms import DefinitionForm, definition_text
from orderflow.automation.models import Reminder, ReminderSequence, Rule, RuleRun, ScheduledJob
from orderflow.automation.reminders import (
    pause_reminder,
    resume_reminder,
    send_reminder_now,
    skip_reminder_step,
)
from orderflow.automation.schedule import retry_job
from orderflow.automation.services import (
    AutomationDefinitionError,
    delete_rule,
    rule_definition,
    save_rule,
    save_sequence,
    sequence_definition,
)
from orderflow.errors import DomainError
from orderflow.pipelines.models import Order
from orderflow.pipelines.selectors import orders_for_staff, tasks_of_order

RULE_EXAMPLE = """key: questionnaire-answered
name: Questionnaire answered
trigger:
  kind: request.submitted
conditions:
  - field: stage
    value: questionnaire-sent
actions:
  - type: move
    stage: questionnaire-received
"""
SEQUENCE_EXAMPLE = """key: questionnaire
name: Questionnaire reminders
start: request.sent
send_at: '09:00'
steps:
  - days: 5
    subject:
      en: Your questionnaire for {order_number} is waiting
    body:
      en: Hello {client_name}, …
"""


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def automation_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "automation/automation_home.html",
        {
            "rules": selectors.rules_for_staff(),
            "sequences": selectors.sequences_for_staff(),
            "failed_jobs": selectors.failed_jobs(limit=20),
            "can_edit": request.user.has_perm("pipelines.change_pipeline"),
        },
    )


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def run_log(request: HttpRequest) -> HttpResponse:
    outcome = request.GET.get("outcome", "")
    if outcome not in RuleRun.Outcome.values:
        outcome = ""
    return render(
        request,
        "automation/run_log.html",
        {
            "runs": selectors.rule_runs(outcome=outcome),
            "outcome": outcome,
            "outcomes": RuleRun.Outcome.choices,
        },
    )


def _edit(
    request: HttpRequest,
    *,
    instance: Rule | ReminderSequence | None,
    save: Callable[..., Any],
    initial_text: str,
    title: str,
) -> HttpResponse:
    pipeline = instance.pipeline if instance is not None else None
    form = DefinitionForm(request.POST or None, fixed_pipeline=pipeline, initial={"definition": initial_text})
    problems: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        try:
            save(form.target_pipeline(), form.cleaned_data["definition"], instance)
        except AutomationDefinitionError as error:
            problems = error.problems
        else:
            messages.success(request, _("Saved."))
            return redirect("automation:home")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "automation/definition_edit.html",
        {"form": form, "problems": problems, "title": title, "instance": instance},
        status=status,
    )


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _edit(
        request,
        instance=None,
        save=lambda pipeline, definition, _instance: save_rule(pipeline, definition),
        initial_text=RULE_EXAMPLE,
        title=_("New rule"),
    )


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule.objects.select_related("pipeline"), pk=pk)
    return _edit(
        request,
        instance=rule,
        save=lambda pipeline, definition, instance: save_rule(pipeline, definition, rule=instance),
        initial_text=definition_text(rule_definition(rule)),
        title=_("Rule “%(name)s”") % {"name": rule.name},
    )


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    delete_rule(rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("automation:home")


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def sequence_create(request: HttpRequest) -> HttpResponse:
    return _edit(
        request,
        instance=None,
        save=lambda pipeline, definition, _instance: save_sequence(pipeline, definition),
        initial_text=SEQUENCE_EXAMPLE,
        title=_("New reminder sequence"),
    )


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def sequence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    sequence = get_object_or_404(ReminderSequence.objects.select_related("pipeline"), pk=pk)
    return _edit(
        request,
        instance=sequence,
        save=lambda pipeline, definition, instance: save_sequence(pipeline, definition, sequence=instance),
        initial_text=definition_text(sequence_definition(sequence)),
        title=_("Reminder sequence “%(name)s”") % {"name": sequence.name},
    )


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ScheduledJob, pk=pk)
    try:
        retry_job(job)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("It will be tried again now."))
    return redirect("automation:home")


REMINDER_ACTIONS: dict[str, Callable[[Reminder], Reminder]] = {
    "pause": pause_reminder,
    "resume": resume_reminder,
    "skip": skip_reminder_step,
    "send-now": send_reminder_now,
}


def _reminders_section(
    request: HttpRequest, order: Order, *, error: str = "", status: int = 200, refresh_next: bool = False
) -> HttpResponse:
    """The card's reminders section; after a control also the card's "Next" (swapped out of band)."""
    context: dict[str, Any] = {
        "order": order,
        "reminders": selectors.reminders_of(order),
        "can_control": request.user.has_perm("pipelines.change_order"),
        "error": error,
        "refresh_next": refresh_next,
    }
    if refresh_next:
        context["next_reminder"] = selectors.next_reminder_for(order)
        context["open_tasks"] = list(tasks_of_order(order).filter(done_at__isnull=True)[:3])
    return render(request, "automation/_order_reminders.html", context, status=status)


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def order_reminders(request: HttpRequest, pk: int) -> HttpResponse:
    """The order card's reminders section (loaded into the card by htmx)."""
    order = get_object_or_404(orders_for_staff(user=request.user), pk=pk)  # type: ignore[arg-type]
    return _reminders_section(request, order)


@login_required
@permission_required("pipelines.change_order", raise_exception=True)
@require_POST
def reminder_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Pause, resume, skip the next step of or send now a reminder of an order the user may see.

    From the card (htmx) the section comes back in place, a refusal shown in it; without
    JavaScript, back to the order card with a message.
    """
    visible = orders_for_staff(user=request.user)  # type: ignore[arg-type]
    reminder = get_object_or_404(Reminder.objects.filter(order__in=visible), pk=pk)
    if action not in REMINDER_ACTIONS:
        return HttpResponse(status=404)
    error = ""
    try:
        REMINDER_ACTIONS[action](reminder)
    except DomainError as refusal:
        error = refusal.message
    if request.htmx:  # type: ignore[attr-defined]
        order = get_object_or_404(visible, pk=reminder.order_id)
        return _reminders_section(
            request, order, error=error, status=422 if error else 200, refresh_next=not error
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Reminder updated."))
    return redirect("backoffice:order-detail", pk=reminder.order_id)
