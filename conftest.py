"""Root conftest: registers the shared fixture modules, so tests in every app can use them."""

from collections.abc import Iterator

import pytest

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.smtp",
    "tests.fixtures.celery_worker",
    "tests.fixtures.browser",
    "tests.fixtures.domain",
]


@pytest.fixture(autouse=True)
def _each_test_starts_in_english() -> Iterator[None]:
    """Every test starts in the default language. Django's LocaleMiddleware activates a request's language
    for the whole thread and never resets it, so a test that asked for a page in Russian left the next
    test in the same worker speaking Russian (its English messages then failed to match)."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()
