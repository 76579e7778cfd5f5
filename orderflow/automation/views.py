"""Staff pages of automation: rules and reminder sequences, their run log, failed work, reminder controls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orderflow.automation import editor, selectors
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
from orderflow.pipelines.models import Order, Pipeline
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
    rules = list(selectors.rules_for_staff())
    sequences = list(selectors.sequences_for_staff())
    describers = selectors.describers_for(
        [rule.pipeline_id for rule in rules] + [sequence.pipeline_id for sequence in sequences]
    )
    for rule in rules:
        rule.sentence = describers[rule.pipeline_id].rule(  # type: ignore[attr-defined]
            rule.trigger, rule.conditions, rule.actions
        )
    for sequence in sequences:
        sequence.starts = describers[sequence.pipeline_id].start(  # type: ignore[attr-defined]
            sequence.start_kind, sequence.start_stage
        )
    return render(
        request,
        "automation/automation_home.html",
        {
            "rules": rules,
            "sequences": sequences,
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
    form_url: str,
) -> HttpResponse:
    """The editor of the definition as YAML text ("Edit as text"), for power users and copy and paste."""
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
        {"form": form, "problems": problems, "title": title, "instance": instance, "form_url": form_url},
        status=status,
    )


def _pipelines() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Pipeline.objects.filter(is_active=True).values_list("pk", "name")]


def _structured(
    request: HttpRequest,
    *,
    instance: Rule | ReminderSequence | None,
    kind: str,
    title: str,
) -> HttpResponse:
    """The rule or reminder sequence editor: inputs in, the same definition, check and save as the text.

    Buttons named `change` add, remove or move a row (or, for `refresh`, show the inputs a new choice
    needs) and come back with everything as typed; the save button checks and saves. htmx swaps the
    editor in place; without JavaScript each button reloads the page with the same result.
    """
    is_rule = kind == "rule"
    pipelines = None if instance is not None else _pipelines()
    pipeline: Pipeline | None = instance.pipeline if instance is not None else None
    problems: list[tuple[str, str]] = []
    status = 200
    if request.method == "POST":
        if instance is None:
            pipeline = Pipeline.objects.filter(
                is_active=True, pk=_posted_id(request.POST.get("pipeline")) or 0
            ).first()
        definition = (
            editor.rule_from_post(request.POST) if is_rule else editor.sequence_from_post(request.POST)
        )
        change = request.POST.get("change", "")
        if change:
            definition = editor.apply_row_change(definition, change)
        elif pipeline is None:
            problems = [("pipeline", _("Choose a pipeline."))]
        else:
            try:
                saved = _save_structured(pipeline, definition, instance, is_rule=is_rule)
            except AutomationDefinitionError as error:
                problems = error.problems
            else:
                messages.success(request, _("Saved: “%(name)s”.") % {"name": saved.name})
                if request.htmx:  # type: ignore[attr-defined]
                    return HttpResponse(status=204, headers={"HX-Redirect": reverse("automation:home")})
                return redirect("automation:home")
        if problems:
            status = 422
    elif instance is not None:
        definition = rule_definition(instance) if is_rule else sequence_definition(instance)  # type: ignore[arg-type]
    else:
        definition = editor.new_rule() if is_rule else editor.new_sequence()
        first = Pipeline.objects.filter(is_active=True).first()
        pipeline = first
    vocabulary = editor.Vocabulary.of(pipeline)
    build = editor.rule_inputs if is_rule else editor.sequence_inputs
    context = {
        "title": title,
        "instance": instance,
        "kind": kind,
        "editor": build(
            definition,
            vocabulary=vocabulary,
            problems=problems,
            pipelines=pipelines,
            pipeline_id=pipeline.pk if pipeline else None,
        ),
        "pipeline": pipeline,
        "text_url": _text_url(kind, instance),
    }
    template = "automation/_definition_form.html" if request.htmx else "automation/definition_form.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=status)


def _posted_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _save_structured(
    pipeline: Pipeline, definition: dict[str, Any], instance: Rule | ReminderSequence | None, *, is_rule: bool
) -> Rule | ReminderSequence:
    """Save what the editor built; a new one without a key gets one made from its name."""
    if not definition.get("key"):
        model = Rule if is_rule else ReminderSequence
        taken = model.objects.filter(pipeline=pipeline).values_list("key", flat=True)
        name = str(definition.get("name", ""))
        definition = {
            **definition,
            "key": editor.key_for(name, taken, fallback="rule" if is_rule else "reminders"),
        }
    if is_rule:
        return save_rule(pipeline, definition, rule=instance)  # type: ignore[arg-type]
    return save_sequence(pipeline, definition, sequence=instance)  # type: ignore[arg-type]


def _text_url(kind: str, instance: Rule | ReminderSequence | None) -> str:
    if instance is None:
        return reverse(f"automation:{kind}-create-text")
    return reverse(f"automation:{kind}-edit-text", args=[instance.pk])


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _structured(request, instance=None, kind="rule", title=_("New rule"))


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule.objects.select_related("pipeline"), pk=pk)
    return _structured(request, instance=rule, kind="rule", title=_("Rule “%(name)s”") % {"name": rule.name})


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def rule_create_text(request: HttpRequest) -> HttpResponse:
    return _edit(
        request,
        instance=None,
        save=lambda pipeline, definition, _instance: save_rule(pipeline, definition),
        initial_text=RULE_EXAMPLE,
        title=_("New rule"),
        form_url=reverse("automation:rule-create"),
    )


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def rule_edit_text(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule.objects.select_related("pipeline"), pk=pk)
    return _edit(
        request,
        instance=rule,
        save=lambda pipeline, definition, instance: save_rule(pipeline, definition, rule=instance),
        initial_text=definition_text(rule_definition(rule)),
        title=_("Rule “%(name)s”") % {"name": rule.name},
        form_url=reverse("automation:rule-edit", args=[rule.pk]),
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
    return _structured(request, instance=None, kind="sequence", title=_("New reminder sequence"))


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def sequence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    sequence = get_object_or_404(ReminderSequence.objects.select_related("pipeline"), pk=pk)
    return _structured(
        request,
        instance=sequence,
        kind="sequence",
        title=_("Reminder sequence “%(name)s”") % {"name": sequence.name},
    )


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def sequence_create_text(request: HttpRequest) -> HttpResponse:
    return _edit(
        request,
        instance=None,
        save=lambda pipeline, definition, _instance: save_sequence(pipeline, definition),
        initial_text=SEQUENCE_EXAMPLE,
        title=_("New reminder sequence"),
        form_url=reverse("automation:sequence-create"),
    )


@login_required
@permission_required("pipelines.change_pipeline", raise_exception=True)
def sequence_edit_text(request: HttpRequest, pk: int) -> HttpResponse:
    sequence = get_object_or_404(ReminderSequence.objects.select_related("pipeline"), pk=pk)
    return _edit(
        request,
        instance=sequence,
        save=lambda pipeline, definition, instance: save_sequence(pipeline, definition, sequence=instance),
        initial_text=definition_text(sequence_definition(sequence)),
        title=_("Reminder sequence “%(name)s”") % {"name": sequence.name},
        form_url=reverse("automation:sequence-edit", args=[sequence.pk]),
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
