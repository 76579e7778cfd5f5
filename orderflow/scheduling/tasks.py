"""Celery tasks of scheduling: thin, idempotent wrappers that take ids and call notices."""

from celery import shared_task

from orderflow.scheduling import notices


@shared_task(
    name="orderflow.scheduling.deliver_booking_notice",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=notices.MAX_ATTEMPTS,
)
def deliver_booking_notice(notice_id: int) -> str:
    """Send one booking e-mail; a sent or withdrawn notice is left alone."""
    return notices.deliver_notice(notice_id).status


@shared_task(name="orderflow.scheduling.send_due_booking_notices")
def send_due_booking_notices() -> int:
    """Beat, every minute: hand each due reminder (one bounded batch) to a worker."""
    ids = notices.due_notice_ids()
    for notice_id in ids:
        deliver_booking_notice.delay(notice_id)
    return len(ids)
