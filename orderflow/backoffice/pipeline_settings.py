"""Settings pages where admins shape pipelines: the pipeline list, a pipeline's stages and its custom fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from orderflow.accounts.models import User
from orderflow.backoffice.pipeline_forms import (
    ROLE_LABELS,
    FieldForm,
    PipelineForm,
    ProcessTemplateUploadForm,
    ReorderForm,
    ShiftForm,
    StageDeleteForm,
    StageForm,
    show_config_errors,
)
from orderflow.pipelines import configure
from orderflow.pipelines.configure import ConfigInputError, PipelineConfigError
from orderflow.pipelines.models import FieldDefinition, Order, Pipeline, Stage
from orderflow.pipelines.process_io import (
    ProcessTemplateError,
    export_process_template,
    import_process_template,
)

View = Callable[..., HttpResponse]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def settings_view(permission: str) -> Callable[[View], View]:
    """Logged in and holding `permission`; anyone else gets 403 (or the login page)."""

    def decorate(view: View) -> View:
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorate


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# Reads for these pages, each a fixed number of queries however many stages, fields or orders.


def _pipelines_overview() -> list[Pipeline]:
    def count(model: type[Stage] | type[FieldDefinition] | type[Order]) -> Coalesce:
        rows = (
            model.objects.filter(pipeline=OuterRef("pk"))
            .order_by()
            .values("pipeline")
            .annotate(total=Count("pk"))
            .values("total")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    return list(
        Pipeline.objects.annotate(
            stage_count=count(Stage), field_count=count(FieldDefinition), order_count=count(Order)
        ).order_by("-is_active", "name", "id")
    )


@dataclass(frozen=True)
class StageRow:
    stage: Stage
    order_count: int
    entered_from: list[str]
    needs: list[str]
    roles: list[str]
    is_first: bool
    is_last: bool


@dataclass(frozen=True)
class FieldRow:
    field: FieldDefinition
    required_by: list[str]
    is_first: bool
    is_last: bool


def _stage_rows(pipeline: Pipeline) -> list[StageRow]:
    stages = list(pipeline.stages.annotate(order_count=Count("orders")).order_by("position", "id"))
    field_labels = dict(pipeline.fields.values_list("key", "label"))
    names = {stage.key: stage.name for stage in stages}
    return [
        StageRow(
            stage=stage,
            order_count=stage.order_count,
            entered_from=[names.get(key, key) for key in stage.allowed_from],
            needs=[field_labels.get(key, key) for key in stage.required_fields],
            roles=[str(ROLE_LABELS.get(role, role)) for role in stage.allowed_roles],
            is_first=index == 0,
            is_last=index == len(stages) - 1,
        )
        for index, stage in enumerate(stages)
    ]


def _field_rows(pipeline: Pipeline) -> list[FieldRow]:
    fields = list(pipeline.fields.order_by("position", "id"))
    stages = list(pipeline.stages.order_by("position", "id").only("name", "required_fields"))
    return [
        FieldRow(
            field=field,
            required_by=[stage.name for stage in stages if field.key in stage.required_fields],
            is_first=index == 0,
            is_last=index == len(fields) - 1,
        )
        for index, field in enumerate(fields)
    ]


def _stage_form(pipeline: Pipeline, stage: Stage | None, data: Any = None) -> StageForm:
    stages = list(pipeline.stages.order_by("position", "id"))
    return StageForm(
        data,
        initial=StageForm.initial_for(stage),
        other_stages=[other for other in stages if stage is None or other.pk != stage.pk],
        fields=list(pipeline.fields.order_by("position", "id")),
    )


# Pipelines


@settings_view("pipelines.change_pipeline")
def pipeline_list(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/settings/pipeline_list.html", {"pipelines": _pipelines_overview()})


@settings_view("pipelines.add_pipeline")
def pipeline_create(request: HttpRequest) -> HttpResponse:
    form = PipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = configure.create_pipeline(form.to_settings(), by=_actor(request))
        except ConfigInputError as error:
            show_config_errors(form, error)
        except PipelineConfigError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Pipeline “%(name)s” created. Add its stages next.") % {"name": pipeline.name}
            )
            return redirect("backoffice:settings-stages", pk=pipeline.pk)
    status = 422 if form.errors else 200
    return render(request, "backoffice/settings/pipeline_form.html", {"form": form}, status=status)


@settings_view("pipelines.change_pipeline")
def pipeline_edit(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    form = PipelineForm(request.POST or None, initial=PipelineForm.initial_for(pipeline))
    if request.method == "POST" and form.is_valid():
        try:
            configure.update_pipeline(pipeline, form.to_settings(), by=_actor(request))
        except ConfigInputError as error:
            show_config_errors(form, error)
        except PipelineConfigError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("backoffice:settings-pipeline-edit", pk=pipeline.pk)
    status = 422 if form.errors else 200
    context = {"form": form, "pipeline": pipeline, "tab": "details"}
    return render(request, "backoffice/settings/pipeline_form.html", context, status=status)


@settings_view("pipelines.change_pipeline")
@require_POST
def pipeline_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    is_active = request.POST.get("is_active") == "true"
    configure.set_pipeline_active(pipeline, is_active=is_active, by=_actor(request))
    if is_active:
        messages.success(request, _("“%(name)s” is active again.") % {"name": pipeline.name})
    else:
        messages.success(
            request,
            _("“%(name)s” is deactivated: no new orders; existing orders carry on.")
            % {"name": pipeline.name},
        )
    return redirect("backoffice:settings-pipeline-list")


# Process templates: a pipeline as a YAML file, out and in (pipelines.process_io does the work).


@settings_view("pipelines.change_pipeline")
def pipeline_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the pipeline with its fields, stages, rules and reminders as a process template."""
    pipeline = get_object_or_404(Pipeline, pk=pk)
    response = HttpResponse(export_process_template(pipeline), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{pipeline.slug}.yaml"'
    return response


@settings_view("pipelines.add_pipeline")
def pipeline_import(request: HttpRequest) -> HttpResponse:
    """Upload a process template: all of it becomes a new pipeline, or nothing, with every problem listed."""
    if not request.user.has_perm("pipelines.add_stage"):
        raise PermissionDenied
    is_post = request.method == "POST"
    form = ProcessTemplateUploadForm(request.POST if is_post else None, request.FILES if is_post else None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = import_process_template(form.cleaned_data["file"], **form.renames())
        except ProcessTemplateError as error:
            problems = error.errors
        else:
            stage_count, field_count = pipeline.stages.count(), pipeline.fields.count()
            messages.success(
                request,
                _("Imported “%(name)s” with %(stages)s and %(fields)s.")
                % {
                    "name": pipeline.name,
                    "stages": ngettext("%(count)d stage", "%(count)d stages", stage_count)
                    % {"count": stage_count},
                    "fields": ngettext("%(count)d field", "%(count)d fields", field_count)
                    % {"count": field_count},
                },
            )
            return redirect("backoffice:settings-stages", pk=pipeline.pk)
    status = 422 if form.errors or problems else 200
    context = {"form": form, "problems": problems}
    return render(request, "backoffice/settings/pipeline_import.html", context, status=status)


# Stages: the page, and the pieces htmx swaps into it.


def _stages_panel(request: HtmxHttpRequest, pipeline: Pipeline, *, status: str = "") -> HttpResponse:
    """The stages panel after a change: the partial for htmx (wherever the request aimed), else a redirect."""
    if not request.htmx:
        if status:
            messages.success(request, status)
        return redirect("backoffice:settings-stages", pk=pipeline.pk)
    context = {"pipeline": pipeline, "rows": _stage_rows(pipeline), "status": status}
    response = render(request, "backoffice/settings/_stages_panel.html", context)
    return reswap(retarget(response, "#stages-panel"), "innerHTML")


@settings_view("pipelines.change_pipeline")
def stage_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    context = {"pipeline": pipeline, "rows": _stage_rows(pipeline), "tab": "stages"}
    template = "_stages_panel.html" if request.htmx else "stages.html"
    response = render(request, f"backoffice/settings/{template}", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _stage_editor(
    request: HtmxHttpRequest, pipeline: Pipeline, stage: Stage | None, form: StageForm, status: int = 200
) -> HttpResponse:
    template = "_stage_editor.html" if request.htmx else "stage_edit.html"
    context = {"pipeline": pipeline, "stage": stage, "form": form, "tab": "stages"}
    return render(request, f"backoffice/settings/{template}", context, status=status)


@settings_view("pipelines.add_stage")
def stage_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    form = _stage_form(pipeline, None, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            stage = configure.create_stage(pipeline, form.to_settings(), by=_actor(request))
        except ConfigInputError as error:
            show_config_errors(form, error)
        except PipelineConfigError as error:
            form.add_error(None, error.message)
        else:
            return _stages_panel(
                request, pipeline, status=_("Stage “%(name)s” added.") % {"name": stage.name}
            )
    return _stage_editor(request, pipeline, None, form, status=422 if form.errors else 200)


@settings_view("pipelines.change_stage")
def stage_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    pipeline = stage.pipeline
    form = _stage_form(pipeline, stage, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            configure.update_stage(stage, form.to_settings(), by=_actor(request))
        except ConfigInputError as error:
            show_config_errors(form, error)
        except PipelineConfigError as error:
            form.add_error(None, error.message)
        else:
            return _stages_panel(
                request, pipeline, status=_("Stage “%(name)s” saved.") % {"name": stage.name}
            )
    return _stage_editor(request, pipeline, stage, form, status=422 if form.errors else 200)


@settings_view("pipelines.change_stage")
@require_POST
def stage_reorder(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    form = ReorderForm(request.POST)
    if not form.is_valid():
        return _stages_panel(request, pipeline, status=_("The new order could not be read."))
    try:
        configure.reorder_stages(pipeline, form.cleaned_data["order"], by=_actor(request))
    except PipelineConfigError as error:
        return _stages_panel(request, pipeline, status=error.message)
    return _stages_panel(request, pipeline, status=_("New order saved."))


@settings_view("pipelines.change_stage")
@require_POST
def stage_shift(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    form = ShiftForm(request.POST)
    if form.is_valid():
        configure.shift_stage(stage, steps=form.steps, by=_actor(request))
    stage.refresh_from_db(fields=["position"])
    return _stages_panel(
        request,
        stage.pipeline,
        status=_("“%(name)s” is now number %(position)d.")
        % {
            "name": stage.name,
            "position": stage.pipeline.stages.filter(position__lt=stage.position).count() + 1,
        },
    )


@settings_view("pipelines.delete_stage")
def stage_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    pipeline = stage.pipeline
    form = StageDeleteForm(request.POST if request.method == "POST" else None, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            moved = configure.delete_stage(
                stage, move_orders_to=form.cleaned_data["move_orders_to"], by=_actor(request)
            )
        except ConfigInputError as error:
            show_config_errors(form, error)
        except PipelineConfigError as error:
            form.add_error(None, error.message)
        else:
            status = ngettext(
                "Stage “%(name)s” deleted; %(count)d order moved.",
                "Stage “%(name)s” deleted; %(count)d orders moved.",
                moved,
            ) % {"name": stage.name, "count": moved}
            return _stages_panel(request, pipeline, status=status)
    in_stage, returning = configure.stage_deletion_impact(stage)
    context = {
        "pipeline": pipeline,
        "stage": stage,
        "form": form,
        "in_stage": in_stage,
        "returning": returning,
        "is_only_stage": not pipeline.stages.exclude(pk=stage.pk).exists(),
        "entered_only_from_here": [
            other.name for other in pipeline.stages.exclude(pk=stage.pk) if other.allowed_from == [stage.key]
        ],
        "tab": "stages",
    }
    template = "_stage_delete.html" if request.htmx else "stage_delete.html"
    return render(request, f"backoffice/settings/{template}", context, status=422 if form.errors else 200)


@settings_view("pipelines.change_stage")
def stage_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One stage's row as shown in the list (what "Cancel" puts back)."""
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    row = next(row for row in _stage_rows(stage.pipeline) if row.stage.pk == stage.pk)
    return render(request, "backoffice/settings/_stage_row.html", {"row": row, "pipeline": stage.pipeline})


# Custom fields: the same shape as stages.


def _fields_panel(request: HtmxHttpRequest, pipeline: Pipeline, *, status: str = "") -> HttpResponse:
    if not request.htmx:
        if status:
            messages.success(request, status)
        return redirect("backoffice:settings-fields", pk=pipeline.pk)
    context = {"pipeline": pipeline, "rows": _field_rows(pipeline), "status": status}
    response = render(request, "backoffice/settings/_fields_panel.html", context)
    return reswap(retarget(response, "#fields-panel"), "innerHTML")


@settings_view("pipelines.change_pipeline")
def field_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    context = {"pipeline": pipeline, "rows": _field_rows(pipeline), "tab": "fields"}
    template = "_fields_panel.html" if request.htmx else "fields.html"
    response = render(request, f"backoffice/settings/{template}", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _field_editor(
    request: HtmxHttpRequest,
    pipeline: Pipeline,
    field: FieldDefinition | None,
    form: FieldForm,
    status: int = 200,
) -> HttpResponse:
    template = "_field_editor.html" if request.htmx else "field_edit.html"
    context = {"pipeline": pipeline, "field": field, "form": form, "tab": "fields"}
    return render(request, f"backoffice/settings/{template}", context, status=status)


@settings_view("pipelines.change_pipeline")
def field_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    form = FieldForm(request.POST if request.method == "POST" else None, initial=FieldForm.initial_for(None))
    if request.method == "POST" and form.is_valid():
        try:
            field = configure.create_field(pipeline, form.to_settings(), by=_actor(request))
        except ConfigInputError as error:
            show_config_errors(form, error)
        except PipelineConfigError as error:
            form.add_error(None, error.message)
        else:
            return _fields_panel(
                request, pipeline, status=_("Field “%(label)s” added.") % {"label": field.label}
            )
    return _field_editor(request, pipeline, None, form, status=422 if form.errors else 200)


@settings_view("pipelines.change_pipeline")
def field_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(FieldDefinition.objects.select_related("pipeline"), pk=pk)
    form = FieldForm(request.POST if request.method == "POST" else None, initial=FieldForm.initial_for(field))
    if request.method == "POST" and form.is_valid():
        try:
            configure.update_field(field, form.to_settings(), by=_actor(request))
        except ConfigInputError as error:
            show_config_errors(form, error)
        except PipelineConfigError as error:
            form.add_error(None, error.message)
        else:
            return _fields_panel(
                request, field.pipeline, status=_("Field “%(label)s” saved.") % {"label": field.label}
            )
    return _field_editor(request, field.pipeline, field, form, status=422 if form.errors else 200)


@settings_view("pipelines.change_pipeline")
@require_POST
def field_reorder(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    form = ReorderForm(request.POST)
    if not form.is_valid():
        return _fields_panel(request, pipeline, status=_("The new order could not be read."))
    try:
        configure.reorder_fields(pipeline, form.cleaned_data["order"], by=_actor(request))
    except PipelineConfigError as error:
        return _fields_panel(request, pipeline, status=error.message)
    return _fields_panel(request, pipeline, status=_("New order saved."))


@settings_view("pipelines.change_pipeline")
@require_POST
def field_shift(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(FieldDefinition.objects.select_related("pipeline"), pk=pk)
    form = ShiftForm(request.POST)
    if form.is_valid():
        configure.shift_field(field, steps=form.steps, by=_actor(request))
    field.refresh_from_db(fields=["position"])
    position = field.pipeline.fields.filter(position__lt=field.position).count() + 1
    return _fields_panel(
        request,
        field.pipeline,
        status=_("“%(label)s” is now number %(position)d.") % {"label": field.label, "position": position},
    )


@settings_view("pipelines.change_pipeline")
def field_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(FieldDefinition.objects.select_related("pipeline"), pk=pk)
    pipeline = field.pipeline
    error_message = ""
    if request.method == "POST":
        try:
            cleared = configure.delete_field(field, by=_actor(request))
        except PipelineConfigError as error:
            error_message = error.message
        else:
            status = ngettext(
                "Field “%(label)s” deleted; %(count)d order's value is kept in its timeline.",
                "Field “%(label)s” deleted; %(count)d orders' values are kept in their timelines.",
                cleared,
            ) % {"label": field.label, "count": cleared}
            return _fields_panel(request, pipeline, status=status)
    row = next(row for row in _field_rows(pipeline) if row.field.pk == field.pk)
    context = {
        "pipeline": pipeline,
        "row": row,
        "field": field,
        "error": error_message,
        "orders_with_value": configure.orders_with_value(pipeline, field.key).count(),
        "tab": "fields",
    }
    template = "_field_delete.html" if request.htmx else "field_delete.html"
    return render(request, f"backoffice/settings/{template}", context, status=422 if error_message else 200)


@settings_view("pipelines.change_pipeline")
def field_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One field's row as shown in the list (what "Cancel" puts back)."""
    field = get_object_or_404(FieldDefinition.objects.select_related("pipeline"), pk=pk)
    row = next(row for row in _field_rows(field.pipeline) if row.field.pk == field.pk)
    return render(request, "backoffice/settings/_field_row.html", {"row": row, "pipeline": field.pipeline})
