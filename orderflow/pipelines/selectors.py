"""Reads of orders and timelines, with the joins done here so pages do not query per row."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    F,
    Func,
    IntegerField,
    OrderBy,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy

from orderflow.accounts.models import User
from orderflow.pipelines.custom_fields import display_value, money_text
from orderflow.pipelines.models import (
    FieldDefinition,
    Order,
    OrderEvent,
    Pipeline,
    SavedView,
    StaffTask,
    Stage,
    Tag,
)

CLOSED_CATEGORIES = (Stage.Category.WON, Stage.Category.LOST, Stage.Category.CANCELLED)


def orders_for_staff(*, user: User, pipeline: Pipeline | None = None) -> QuerySet[Order]:
    """Orders a staff member may see, with what a list row shows already joined."""
    orders = Order.objects.select_related("pipeline", "stage", "client", "owner")
    if not user.has_perm("pipelines.view_order"):
        return orders.none()
    if pipeline is not None:
        orders = orders.filter(pipeline=pipeline)
    return orders


@dataclass(frozen=True)
class ChangeRow:
    """One line of an "order updated" entry: the field's name as people know it, and the values."""

    label: str
    before: str
    after: str


# Built-in order attributes as an "order updated" event names them, and how people call them.
CHANGE_LABELS = {
    "title": gettext_lazy("Title"),
    "owner": gettext_lazy("Owner"),
    "value": gettext_lazy("Value"),
    "due_date": gettext_lazy("Due date"),
    "tags": gettext_lazy("Tags"),
    "watchers": gettext_lazy("Watchers"),
}
FIELD_CHANGE_PREFIX = "fields."


def _change_text(value: Any, definition: FieldDefinition | None, *, money_currency: str | None = None) -> str:
    if value is None or value == "" or value == []:
        return ""
    if definition is not None:
        return display_value(definition, value)
    if money_currency is not None:
        return money_text(value, money_currency)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict) and "amount" in value:
        return money_text(value.get("amount"), value.get("currency", ""))
    return str(value)


def change_rows(
    event: OrderEvent, definitions: dict[str, FieldDefinition], *, currency: str = ""
) -> list[ChangeRow]:
    """The changes an "order updated" event lists, labelled for people: a custom field by its label
    (as it is now, else as it was when the change was made, else its key), a built-in one by its
    translated name. `definitions` are the pipeline's fields by key; `currency` is the pipeline's,
    which the order's value is in. Money reads as the order's details show it ('2900,00 EUR')."""
    data = event.data or {}
    kept_labels = data.get("labels") or {}
    rows = []
    for name, values in (data.get("changes") or {}).items():
        before, after = [*values, None, None][:2] if isinstance(values, list) else [None, values]
        definition = None
        if name.startswith(FIELD_CHANGE_PREFIX):
            key = name.removeprefix(FIELD_CHANGE_PREFIX)
            definition = definitions.get(key)
            label = definition.label if definition else str(kept_labels.get(name) or key)
        else:
            label = str(CHANGE_LABELS.get(name, name))
        money_currency = currency if name == "value" else None
        rows.append(
            ChangeRow(
                label=label,
                before=_change_text(before, definition, money_currency=money_currency),
                after=_change_text(after, definition, money_currency=money_currency),
            )
        )
    return rows


def order_timeline(order: Order, *, definitions: Sequence[FieldDefinition] | None = None) -> list[OrderEvent]:
    """The order's events, oldest first, with stages and actor joined; each "order updated" event
    carries `change_rows` (see change_rows). `definitions` are the pipeline's custom fields if the
    caller has them already; otherwise they are read when needed (one query)."""
    events = list(order.events.select_related("actor", "from_stage", "to_stage").order_by("created_at", "id"))
    updates = [event for event in events if event.kind == OrderEvent.Kind.UPDATED]
    if updates:
        if definitions is None:
            definitions = list(order.pipeline.fields.all())
        by_key = {definition.key: definition for definition in definitions}
        for event in updates:
            event.change_rows = change_rows(event, by_key, currency=order.pipeline.currency)  # type: ignore[attr-defined]
    return events


def order_counts_by_client(client_ids: Sequence[int]) -> dict[int, int]:
    """How many orders each of these contacts has (absent: none). One query for a page of contacts."""
    rows = (
        Order.objects.filter(client_id__in=client_ids)
        .order_by()
        .values("client_id")
        .annotate(total=Count("id"))
        .values_list("client_id", "total")
    )
    return dict(rows)


def stages_to_move_to(order: Order) -> QuerySet[Stage]:
    return order.pipeline.stages.exclude(pk=order.stage_id).order_by("is_side", "position", "id")


def active_pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(is_active=True).order_by("name", "id")


def tasks_of_order(order: Order) -> QuerySet[StaffTask]:
    """Open tasks first (soonest due first), then done ones."""
    return order.tasks.select_related("assignee").order_by(
        F("done_at").asc(nulls_first=True), F("due_at").asc(nulls_last=True), "id"
    )


def open_tasks_for(user: User) -> QuerySet[StaffTask]:
    return (
        StaffTask.objects.filter(assignee=user, done_at__isnull=True)
        .select_related("order__pipeline", "order__stage", "order__client")
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )


def recently_done_tasks_for(user: User, *, limit: int = 20) -> QuerySet[StaffTask]:
    return (
        StaffTask.objects.filter(assignee=user, done_at__isnull=False)
        .select_related("order__pipeline")
        .order_by("-done_at")[:limit]
    )


# --- Board -------------------------------------------------------------------------------------

BOARD_PAGE_SIZE = 30


def board_stages(pipeline: Pipeline, *, user: User) -> QuerySet[Stage]:
    """The pipeline's stages as board columns (main path first, side statuses after), each annotated
    with `order_count` and `order_value` (sum of Order.value, 0 when none) in ONE aggregate query.

    A user who may not see orders gets the columns with zero counts.
    """
    stages = pipeline.stages.order_by("is_side", "position", "id")
    if not user.has_perm("pipelines.view_order"):
        return stages.annotate(
            order_count=Value(0, output_field=IntegerField()),
            order_value=Value(Decimal(0), output_field=DecimalField(max_digits=18, decimal_places=2)),
        )
    return stages.annotate(
        order_count=Count("orders"),
        order_value=Coalesce(
            Sum("orders__value"),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=18, decimal_places=2),
        ),
    )


def _board_cards(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("pipeline", "client", "owner").prefetch_related("tags")


def board_first_cards(
    pipeline: Pipeline, *, user: User, per_stage: int = BOARD_PAGE_SIZE
) -> dict[int, list[Order]]:
    """The newest `per_stage` orders of every stage (by stage_entered_at), by stage id.

    One query for all columns (a row-number window per stage) plus one for the tags, whatever the
    number of stages or orders.
    """
    ranked = orders_for_staff(user=user, pipeline=pipeline).annotate(
        board_rank=Window(
            RowNumber(),
            partition_by=[F("stage_id")],
            order_by=[F("stage_entered_at").desc(), F("id").desc()],
        )
    )
    cards: dict[int, list[Order]] = {}
    first_pages = ranked.filter(Q(board_rank__lte=per_stage)).order_by("stage_id", F("board_rank"))
    for order in _board_cards(first_pages):
        cards.setdefault(order.stage_id, []).append(order)
    return cards


@dataclass(frozen=True)
class BoardCursor:
    """Where a board column's page ended: the last card's stage_entered_at and id (newest first)."""

    entered_at: datetime.datetime
    order_id: int

    def __str__(self) -> str:
        return f"{self.entered_at.isoformat()}_{self.order_id}"

    @classmethod
    def parse(cls, text: str) -> BoardCursor | None:
        """The cursor written by str(), or None when `text` is not one (a tampered or stale link)."""
        stamp, _sep, order_id = text.rpartition("_")
        try:
            entered_at = datetime.datetime.fromisoformat(stamp)
            return cls(entered_at=entered_at, order_id=int(order_id)) if entered_at.tzinfo else None
        except ValueError:
            return None


def board_column_page(
    stage: Stage, *, user: User, after: BoardCursor | None = None, limit: int = BOARD_PAGE_SIZE
) -> tuple[list[Order], BoardCursor | None]:
    """The next `limit` cards of a column after `after`, and the cursor of the page after (None at the end).

    Keyset paging, so cards moving in or out while someone scrolls never repeat or skip others.
    """
    orders = orders_for_staff(user=user, pipeline=stage.pipeline).filter(stage=stage)
    if after is not None:
        orders = orders.filter(
            Q(stage_entered_at__lt=after.entered_at)
            | Q(stage_entered_at=after.entered_at, id__lt=after.order_id)
        )
    page = list(_board_cards(orders).order_by("-stage_entered_at", "-id")[: limit + 1])
    if len(page) <= limit:
        return page, None
    page = page[:limit]
    return page, BoardCursor(entered_at=page[-1].stage_entered_at, order_id=page[-1].pk)


def board_card(order_id: int, *, user: User, pipeline: Pipeline) -> Order:
    """One card with what it shows joined (after a move); Order.DoesNotExist when not visible."""
    return _board_cards(orders_for_staff(user=user, pipeline=pipeline)).get(pk=order_id)


# --- Order list --------------------------------------------------------------------------------

ORDER_LIST_SORTS: dict[str, tuple[OrderBy, ...]] = {
    "-updated": (F("updated_at").desc(), F("id").desc()),
    "updated": (F("updated_at").asc(), F("id").asc()),
    "-created": (F("created_at").desc(), F("id").desc()),
    "created": (F("created_at").asc(), F("id").asc()),
    "due": (F("due_date").asc(nulls_last=True), F("id").asc()),
    "-due": (F("due_date").desc(nulls_last=True), F("id").desc()),
}

# "WEB-00042", "web-42", "00042", "42": an order number, with or without its pipeline's prefix.
_REFERENCE = re.compile(r"^(?:(?P<prefix>[A-Za-z][A-Za-z0-9]{1,7})\s*-\s*)?#?0*(?P<number>\d{1,9})$")


@dataclass(frozen=True)
class OrderFilters:
    """What the order list is narrowed to. Empty values mean "any"."""

    pipeline: Pipeline | None = None
    stages: Sequence[Stage] = ()
    owner: User | None = None
    without_owner: bool = False
    tag: Tag | None = None
    is_overdue: bool = False
    search: str = ""
    sort: str = "-updated"


class CustomFieldsContain(Func):
    """True when any text value in an order's custom fields (Order.fields) contains `text`, any case.

    Looks at the values only, not the keys, so searching "domain" does not match every order that has
    a domain field; and it reads the decoded JSON, so "Café" or "Ракета" match on SQLite too (where
    the stored JSON text escapes them). Case folding is ASCII-only on SQLite, like icontains there.
    """

    output_field = BooleanField()
    arity = 1

    def __init__(self, expression: Any, text: str) -> None:
        super().__init__(expression)
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        self.pattern = f"%{escaped}%"

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple[Any, ...]]:  # type: ignore[override]
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            sql = (
                f"EXISTS (SELECT 1 FROM jsonb_path_query({column}, 'strict $.**') AS field_value "
                "WHERE jsonb_typeof(field_value) = 'string' AND (field_value #>> '{}') ILIKE %s)"
            )
        elif connection.vendor == "sqlite":
            sql = (
                f"EXISTS (SELECT 1 FROM json_tree({column}) AS field_value "
                "WHERE field_value.type = 'text' AND field_value.atom LIKE %s ESCAPE '\\')"
            )
        else:  # other databases: the JSON text, keys included
            sql = f"UPPER(CAST({column} AS TEXT)) LIKE UPPER(%s) ESCAPE '\\'"
        return sql, (*params, self.pattern)


def order_search_condition(text: str) -> Q:
    """Orders whose reference, title, client name or e-mail, or a custom field value contains `text`."""
    text = text.strip()
    condition = (
        Q(title__icontains=text)
        | Q(client__name__icontains=text)
        | Q(client__email__icontains=text)
        | Q(CustomFieldsContain("fields", text))
    )
    if match := _REFERENCE.match(text):
        by_number = Q(number=int(match["number"]))
        if match["prefix"]:
            by_number &= Q(pipeline__number_prefix=match["prefix"].upper())
        condition |= by_number
    return condition


def overdue_condition(*, now: datetime.datetime | None = None, today: datetime.date | None = None) -> Q:
    """Orders still being worked on (not won, lost or cancelled) that are past their due date or have
    been in their stage longer than the stage's max_days.

    `today` is a date in the viewer's zone (default: the active time zone's). One small query reads
    the stages that have a time limit; the per-stage cut-offs keep the test portable across databases.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    late = Q(due_date__lt=today)
    for stage_id, max_days in Stage.objects.filter(max_days__isnull=False).values_list("id", "max_days"):
        if max_days is not None:
            late |= Q(stage_id=stage_id, stage_entered_at__lt=now - datetime.timedelta(days=max_days))
    return late & ~Q(stage__category__in=CLOSED_CATEGORIES)


def orders_for_list(*, user: User, filters: OrderFilters) -> QuerySet[Order]:
    """The staff order list narrowed by `filters`, rows with their joins and tags, in the asked order."""
    orders = orders_for_staff(user=user, pipeline=filters.pipeline).prefetch_related("tags")
    if filters.stages:
        orders = orders.filter(stage__in=filters.stages)
    if filters.without_owner:
        orders = orders.filter(owner__isnull=True)
    elif filters.owner is not None:
        orders = orders.filter(owner=filters.owner)
    if filters.tag is not None:
        orders = orders.filter(tags=filters.tag)
    if filters.is_overdue:
        orders = orders.filter(overdue_condition())
    sort = ORDER_LIST_SORTS.get(filters.sort, ORDER_LIST_SORTS["-updated"])
    if filters.search.strip():
        orders = orders.filter(order_search_condition(filters.search))
        if match := _REFERENCE.match(filters.search.strip()):
            # "42" also finds titles and e-mails containing 42; the order numbered 42 comes first.
            exact = Case(When(number=int(match["number"]), then=Value(0)), default=Value(1))
            return orders.order_by(exact, *sort)
    return orders.order_by(*sort)


def saved_views_for(user: User) -> QuerySet[SavedView]:
    """The user's own saved views and those others shared, own first."""
    return (
        SavedView.objects.filter(Q(owner=user) | Q(is_shared=True))
        .select_related("owner")
        .annotate(is_mine=Case(When(owner=user, then=Value(True)), default=Value(False)))
        .order_by("-is_mine", "name", "id")
    )
