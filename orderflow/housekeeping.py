"""Periodic chores of the embedded set-up that belong to no domain app."""

import logging
import time
from pathlib import Path

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)

PROCESSED_KEEP_SECONDS = 24 * 3600


@shared_task(name="orderflow.housekeeping.prune_broker_folder")
def prune_broker_folder() -> int:
    """Delete claimed filesystem-broker messages older than a day; the transport never does.

    Returns how many files were removed. Does nothing on Redis or RabbitMQ.
    """
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    folder = options.get("processed_folder")
    if not folder:
        return 0
    cutoff = time.time() - PROCESSED_KEEP_SECONDS
    removed = 0
    for path in Path(str(folder)).glob("*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    if removed:
        logger.info("pruned %d processed broker messages", removed)
    return removed
