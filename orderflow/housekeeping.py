"""Periodic chores of the embedded set-up that belong to no domain app."""

import logging
import time
from pathlib import Path

from celery import shared_task
from django.conf import settings

from orderflow.broker import PARTIAL_SUFFIX

logger = logging.getLogger(__name__)

PROCESSED_KEEP_SECONDS = 24 * 3600


@shared_task(name="orderflow.housekeeping.prune_broker_folder")
def prune_broker_folder() -> int:
    """Delete claimed filesystem-broker messages older than a day (the transport never does), and
    messages left half-written by a process that died while queueing them.

    Returns how many files were removed. Does nothing on Redis or RabbitMQ.
    """
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    folder = options.get("processed_folder")
    if not folder:
        return 0
    cutoff = time.time() - PROCESSED_KEEP_SECONDS
    removed = 0
    # A message whose writer died before renaming it into place is never consumed either.
    queue_folder = Path(str(options.get("data_folder_in", folder)))
    partials = queue_folder.glob(f"*{PARTIAL_SUFFIX}")
    for path in [*Path(str(folder)).glob("*"), *partials]:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    if removed:
        logger.info("pruned %d processed broker messages", removed)
    return removed
