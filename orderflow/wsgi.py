"""WSGI entry point for gunicorn (`orderflow up` starts it; several can run behind a load balancer)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderflow.settings")
application = get_wsgi_application()
