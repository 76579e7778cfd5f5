"""The staff order list: filters, search, saved views and moving many orders at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from orderflow.accounts.models import User
from orderflow.errors import DomainError
from orderflow.pipelines import selectors
from orderflow.pipelines.models import Pipeline, SavedView, Stage, Tag
from orderflow.pipelines.services import BulkMoveResult, move_orders, save_view

PAGE_SIZE = 50
# At most this many orders in one bulk move: a page of the list, with room to spare.
BULK_MOVE_LIMIT = 200
# The query-string keys the list understands; saved views keep these and nothing else.
FILTER_KEYS = ("q", "pipeline", "stage", "owner", "tag", "overdue", "sort")

SORT_CHOICES = [
    ("-updated", gettext_lazy("Recently updated")),
    ("updated", gettext_lazy("Least recently updated")),
    ("-created", gettext_lazy("Newest")),
    ("created", gettext_lazy("Oldest")),
    ("due", gettext_lazy("Due soonest")),
    ("-due", gettext_lazy("Due latest")),
]


def filter_pairs(query: QueryDict) -> list[tuple[str, str]]:
    """The list's filters in `query`: known keys only, in a fixed order, no empties, no default sort."""
    pairs = [(key, value.strip()) for key in FILTER_KEYS for value in query.getlist(key) if value.strip()]
    return [pair for pair in pairs if pair != ("sort", "-updated")]


def canonical_query(query: QueryDict) -> str:
    """The filters as a stable query string, so equal filters give equal strings (saved views)."""
    return urlencode(filter_pairs(query))


@dataclass(frozen=True)
class FilterChoices:
    """Everything the filter bar offers, read once per request (four queries, whatever is selected)."""

    pipelines: list[Pipeline]
    stages: list[Stage]
    owners: list[User]
    tags: list[Tag]

    @classmethod
    def load(cls) -> FilterChoices:
        return cls(
            pipelines=list(Pipeline.objects.order_by("name", "id")),
            stages=list(Stage.objects.order_by("pipeline__name", "pipeline_id", "is_side", "position", "id")),
            owners=list(User.objects.filter(is_active=True, is_staff=True).order_by("full_name", "email")),
            tags=list(Tag.objects.order_by("name")),
        )

    def stage_groups(self, pipeline: Pipeline | None = None) -> list[tuple[Pipeline, list[Stage]]]:
        """Stages under their pipeline, in board order; only `pipeline`'s when given."""
        groups: list[tuple[Pipeline, list[Stage]]] = []
        for candidate in self.pipelines:
            if pipeline is None or candidate.pk == pipeline.pk:
                groups.append(
                    (candidate, [stage for stage in self.stages if stage.pipeline_id == candidate.pk])
                )
        return [group for group in groups if group[1]]


class OrderFilterForm(forms.Form):
    """The list's filters as they appear in the query string; a wrong value is ignored with a note."""

    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    pipeline = forms.TypedChoiceField(label=gettext_lazy("Pipeline"), required=False, coerce=int)
    stage = forms.TypedMultipleChoiceField(label=gettext_lazy("Stages"), required=False, coerce=int)
    owner = forms.ChoiceField(label=gettext_lazy("Owner"), required=False)
    tag = forms.ChoiceField(label=gettext_lazy("Tag"), required=False)
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)
    sort = forms.ChoiceField(label=gettext_lazy("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, data: QueryDict, *, choices: FilterChoices, user: User) -> None:
        super().__init__(data)
        self.choices = choices
        self.user = user
        self.fields["pipeline"].choices = [  # type: ignore[attr-defined]
            ("", _("All pipelines")),
            *((pipeline.pk, pipeline.name) for pipeline in choices.pipelines),
        ]
        self.fields["stage"].choices = [(stage.pk, stage.name) for stage in choices.stages]  # type: ignore[attr-defined]
        self.fields["owner"].choices = [  # type: ignore[attr-defined]
            ("", _("Anyone")),
            ("me", _("Me")),
            ("nobody", _("Nobody")),
            *((str(owner.pk), str(owner)) for owner in choices.owners),
        ]
        self.fields["tag"].choices = [("", _("Any tag")), *((tag.name, tag.name) for tag in choices.tags)]  # type: ignore[attr-defined]

    def filters(self) -> selectors.OrderFilters:
        """The valid part of the filters (call after is_valid(); invalid fields count as empty)."""
        data = getattr(self, "cleaned_data", {})
        pipeline = next((p for p in self.choices.pipelines if p.pk == data.get("pipeline")), None)
        stage_ids = set(data.get("stage") or [])
        owner_value = data.get("owner") or ""
        owner = self.user if owner_value == "me" else None
        if owner_value.isdigit():
            owner = next((person for person in self.choices.owners if person.pk == int(owner_value)), None)
        return selectors.OrderFilters(
            pipeline=pipeline,
            stages=[stage for stage in self.choices.stages if stage.pk in stage_ids],
            owner=owner,
            without_owner=owner_value == "nobody",
            tag=next((tag for tag in self.choices.tags if tag.name == data.get("tag")), None),
            is_overdue=bool(data.get("overdue")),
            search=data.get("q") or "",
            sort=data.get("sort") or "-updated",
        )

    @property
    def active_count(self) -> int:
        """How many filters (not search, not sort) narrow the list, for the "Filters (n)" label."""
        data = getattr(self, "cleaned_data", {})
        keys = ("pipeline", "stage", "owner", "tag", "overdue")
        return sum(1 for key in keys if data.get(key) not in (None, "", [], False))


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def _list_context(request: HttpRequest, *, query: QueryDict, **extra: Any) -> dict[str, Any]:
    user = _staff(request)
    choices = FilterChoices.load()
    form = OrderFilterForm(query, choices=choices, user=user)
    form.is_valid()
    filters = form.filters()
    orders = selectors.orders_for_list(user=user, filters=filters)
    page = Paginator(orders, PAGE_SIZE).get_page(query.get("page"))
    pairs = filter_pairs(query)
    return {
        "form": form,
        "filters": filters,
        "page": page,
        "orders": page.object_list,
        "stage_groups": choices.stage_groups(),
        "move_stage_groups": choices.stage_groups(filters.pipeline),
        "selected_stages": {stage.pk for stage in filters.stages},
        "saved_views": list(selectors.saved_views_for(user)),
        "current_query": urlencode(pairs),
        "has_filters": any(key != "sort" for key, _value in pairs),
        "today": timezone.localdate(),
        "sort": filters.sort,
        "bulk_limit": BULK_MOVE_LIMIT,
        **extra,
    }


def _is_results_request(request: HttpRequest) -> bool:
    return bool(request.htmx) and request.htmx.target == "order-results"  # type: ignore[attr-defined]


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
def order_list(request: HttpRequest) -> HttpResponse:
    """Orders, filtered by the query string; htmx filter changes get only the results back."""
    context = _list_context(request, query=request.GET)
    if not _is_results_request(request):
        return render(request, "backoffice/order_list.html", context)
    response = render(request, "backoffice/_order_list_results.html", context)
    # The address bar shows the filters as a saved view stores them, without the empty fields.
    query = context["current_query"]
    if context["page"].number > 1:
        query = f"{query}&page={context['page'].number}" if query else f"page={context['page'].number}"
    response["HX-Push-Url"] = _list_url(query)
    return response


@login_required
@permission_required("pipelines.move_order", raise_exception=True)
@require_POST
def bulk_move(request: HttpRequest) -> HttpResponse:
    """Move the checked orders (POST `order`) to POST `stage`; the list's filters ride in the query string.

    Answers with the list again (the results part for htmx) headed by a report: how many moved, and
    every refused order with its reason. Orders that vanished or are not visible are reported too.
    """
    user = _staff(request)
    wanted: list[int] = []
    for value in request.POST.getlist("order"):
        if value.isdigit() and len(value) < 19 and int(value) not in wanted:
            wanted.append(int(value))
    stage_id = request.POST.get("stage", "")
    to_stage = (
        Stage.objects.select_related("pipeline").filter(pk=int(stage_id)).first()
        if stage_id.isdigit() and len(stage_id) < 19
        else None
    )
    problem = ""
    result: BulkMoveResult | None = None
    if not wanted:
        problem = _("Tick the orders to move first.")
    elif len(wanted) > BULK_MOVE_LIMIT:
        problem = _("Move at most %(count)d orders at once.") % {"count": BULK_MOVE_LIMIT}
    elif to_stage is None:
        problem = _("Choose the stage to move the orders to.")
    else:
        found = {order.pk: order for order in selectors.orders_for_staff(user=user).filter(pk__in=wanted)}
        result = move_orders(
            [found[pk] for pk in wanted if pk in found],
            to_stage,
            by=user,
            reason=request.POST.get("reason", ""),
        )
        missing = [pk for pk in wanted if pk not in found]
        result.refused.extend((f"#{pk}", _("This order no longer exists.")) for pk in missing)
    context = _list_context(request, query=request.GET, bulk_result=result, bulk_problem=problem)
    template = (
        "backoffice/_order_list_results.html"
        if _is_results_request(request)
        else "backoffice/order_list.html"
    )
    return render(request, template, context, status=422 if problem else 200)


class SavedViewForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    is_shared = forms.BooleanField(label=gettext_lazy("Share with all staff"), required=False)
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)


def _list_url(query: str) -> str:
    url = reverse("backoffice:order-list")
    return f"{url}?{query}" if query else url


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Keep the current filters under a name, for the user alone or shared with all staff."""
    form = SavedViewForm(request.POST)
    query = canonical_query(QueryDict(request.POST.get("query", "")))
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect(_list_url(query))
    try:
        view = save_view(
            owner=_staff(request),
            name=form.cleaned_data["name"],
            query=canonical_query(QueryDict(form.cleaned_data["query"])),
            is_shared=form.cleaned_data["is_shared"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_list_url(query))
    messages.success(request, _("Saved the view “%(name)s”.") % {"name": view.name})
    return redirect(_list_url(view.query))


@login_required
@permission_required("pipelines.view_order", raise_exception=True)
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the user's own saved views (shared views of others are not theirs to delete)."""
    view = get_object_or_404(SavedView, pk=pk, owner=_staff(request))
    view.delete()
    messages.success(request, _("Deleted the view “%(name)s”.") % {"name": view.name})
    return redirect(_list_url(canonical_query(QueryDict(request.POST.get("query", "")))))
