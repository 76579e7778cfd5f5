"""Root conftest: registers the shared fixture modules, so tests in every app can use them."""

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.smtp",
    "tests.fixtures.celery_worker",
    "tests.fixtures.browser",
    "tests.fixtures.domain",
]
