"""The Celery application: configured from Django settings (CELERY_* names), tasks found in each app."""

import os

from celery import Celery

from orderflow.broker import use_atomic_filesystem_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderflow.settings")

use_atomic_filesystem_transport()
app = Celery("orderflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["orderflow"], related_name="housekeeping")
