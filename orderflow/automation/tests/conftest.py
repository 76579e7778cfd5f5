"""Fixtures of the automation tests: an organisation calendar, a questionnaire reminder sequence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orderflow.accounts.models import Organisation
from orderflow.automation.models import ReminderSequence
from orderflow.automation.services import save_sequence
from orderflow.pipelines.models import Pipeline

CaptureOnCommit = Callable[..., Any]


def questionnaire_steps(days: tuple[int, ...] = (5, 10, 15, 20)) -> list[dict[str, Any]]:
    return [
        {
            "days": day,
            "subject": {
                "en": f"Reminder {n}: your questionnaire for {{order_number}}",
                "pt": f"Lembrete {n}",
            },
            "body": {"en": "Hello {client_name}, reminder {step} of {steps}.", "pt": "Olá {client_name}."},
        }
        for n, day in enumerate(days, start=1)
    ]


@pytest.fixture
def questionnaire_reminders(web_pipeline: Pipeline) -> ReminderSequence:
    """Reminders after 5, 10, 15 and 20 business days at 09:00 while a request sent is unanswered."""
    return save_sequence(
        web_pipeline,
        {
            "key": "questionnaire",
            "name": "Questionnaire",
            "start": "request.sent",
            "steps": questionnaire_steps(),
        },
    )


def set_calendar(time_zone: str, country: str) -> Organisation:
    organisation = Organisation.current()
    organisation.time_zone = time_zone
    organisation.holiday_country = country
    organisation.save()
    return organisation
