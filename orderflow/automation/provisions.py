"""What a rule may name before it exists: the starter forms and kinds of call Orderflow ships.

A process template is meant to load into a fresh installation and run. Seed 000's rules name a
library form ("Website questionnaire") and a kind of call ("Questionnaire review call"). When a
rule names one of these and it is missing, saving the rule (or importing the template) adds it
through the owning app's service — the request library's starter forms, the scheduling app's
booking types — so a saved rule never names something that is not there. Any other missing name
is still refused by automation.definitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Kinds of call the shipped process templates name, with the values a new one gets. Staff change
# them afterwards in the scheduling settings; an existing booking type of that name is left alone.
STARTER_BOOKING_TYPES: dict[str, dict[str, Any]] = {
    "Questionnaire review call": {
        "duration_minutes": 30,
        "description": "A short call to go through your answers to the questionnaire.",
    },
}


def starter_form_names() -> set[str]:
    """Names of the forms the request library can add by itself (client_requests' starter forms)."""
    from orderflow.client_requests.starter_forms import STARTER_FORMS

    return {str(form["name"]) for form in STARTER_FORMS}


def provide_for_actions(actions: Iterable[dict[str, Any]]) -> list[str]:
    """Add the starter forms and kinds of call these rule actions name and that are missing.

    Call inside the transaction that saves the rules. Returns the names added (empty: all there).
    """
    from orderflow.client_requests.models import FormTemplate
    from orderflow.client_requests.services import install_starter_forms
    from orderflow.scheduling.models import BookingType
    from orderflow.scheduling.services import ensure_booking_type

    added: list[str] = []
    starters = starter_form_names()
    for action in actions:
        kind = action.get("type")
        if kind == "send_request":
            name = action.get("form")
            if name in starters and not FormTemplate.objects.filter(name=name, is_template=True).exists():
                install_starter_forms(by=None)
                added.append(str(name))
        elif kind == "send_booking_invitation":
            name = action.get("booking_type")
            if name in STARTER_BOOKING_TYPES and not BookingType.objects.filter(name=name).exists():
                ensure_booking_type(str(name), **STARTER_BOOKING_TYPES[str(name)])
                added.append(str(name))
    return added
