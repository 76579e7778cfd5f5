"""Tests against real external services: a Celery worker on Redis, an SMTP server."""
