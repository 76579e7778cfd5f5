"""The reports page: per pipeline, a funnel and time in stage over a period, as charts and tables."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from orderflow.pipelines.models import Pipeline
from orderflow.pipelines.selectors import active_pipelines
from orderflow.reports import selectors
from orderflow.reports.forms import DEFAULT_DAYS, PRESETS, PeriodForm


def duration_text(seconds: float | None) -> str:
    """A stay as people say it: "3 d 4 h", "5 h 20 min", "12 min" ("—" for none)."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


@login_required
@permission_required("pipelines.view_order_reports", raise_exception=True)
@require_GET
def reports_home(request: HttpRequest) -> HttpResponse:
    """The first active pipeline's report (the period kept), or a page saying there is no pipeline."""
    pipeline = active_pipelines().first()
    if pipeline is None:
        return render(request, "reports/pipeline_report.html", {"pipeline": None})
    response = redirect("reports:pipeline", slug=pipeline.slug)
    if request.GET:
        response["Location"] += "?" + request.GET.urlencode()
    return response


@login_required
@permission_required("pipelines.view_order_reports", raise_exception=True)
@require_GET
def pipeline_report(request: HttpRequest, slug: str) -> HttpResponse:
    """Funnel and time in stage of one pipeline. A fixed number of queries whatever the number of orders."""
    pipeline = get_object_or_404(Pipeline, slug=slug)
    today = timezone.localdate()
    default_start = today - datetime.timedelta(days=DEFAULT_DAYS - 1)
    form = PeriodForm(request.GET or None, today=today, initial={"start": default_start, "end": today})
    form.is_valid()
    period = form.period()
    stages = list(pipeline.stages.order_by("position", "id"))
    with selectors.report_queries():
        steps = selectors.funnel(pipeline, period, stages=stages)
        times = selectors.time_in_stage(pipeline, period, stages=stages)
    presets = [
        (
            ngettext("Last %(count)d day", "Last %(count)d days", days) % {"count": days},
            urlencode(
                {"start": (today - datetime.timedelta(days=days - 1)).isoformat(), "end": today.isoformat()}
            ),
            period.first_day == today - datetime.timedelta(days=days - 1) and period.last_day == today,
        )
        for days in PRESETS
    ]
    context = {
        "pipeline": pipeline,
        "pipelines": list(active_pipelines()),
        "form": form,
        "period": period,
        "period_query": urlencode(
            {"start": period.first_day.isoformat(), "end": period.last_day.isoformat()}
        ),
        "presets": presets,
        "steps": steps,
        "opened": steps[0].reached if steps else 0,
        "times": [(row, duration_text(row.median), duration_text(row.p90)) for row in times],
        "has_times": any(row.stays for row in times),
    }
    return render(request, "reports/pipeline_report.html", context, status=422 if form.errors else 200)
