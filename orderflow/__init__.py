"""Orderflow: long service orders run together with clients and contractors."""

from orderflow.celery import app as celery_app

__all__ = ["celery_app"]
