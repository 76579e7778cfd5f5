"""Migration operations that exist only on PostgreSQL (the no-double-booking exclusion constraint)."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

BOOKING_NO_OVERLAP = "scheduling_booking_no_overlap"


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def booking_exclusion_constraint() -> ExclusionConstraint:
    """Confirmed bookings of one staff member may not overlap, buffers included ([from, until))."""
    return ExclusionConstraint(
        name=BOOKING_NO_OVERLAP,
        expressions=[
            (TsTzRange("blocked_from", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
            ("staff", RangeOperators.EQUAL),
        ],
        condition=models.Q(status="confirmed"),
    )


class AddExclusionConstraintOnPostgres(Operation):
    """Add the booking exclusion constraint on PostgreSQL; do nothing elsewhere.

    The constraint is kept out of the model state on purpose: SQLite cannot hold it (a table rebuild
    there would try to recreate it), and there book_slot serialises writers instead.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__qualname__, [], {"model_name": self.model_name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        schema_editor.add_constraint(model, booking_exclusion_constraint())

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        schema_editor.remove_constraint(model, booking_exclusion_constraint())

    def describe(self) -> str:
        return f"Add the no-overlap exclusion constraint to {self.model_name} (PostgreSQL only)"
