from celery import shared_task

from .health import record_worker_heartbeat


@shared_task(ignore_result=True, expires=120)
def worker_heartbeat() -> None:
    """Sent by the beat every minute: a worker that runs it is alive (readiness, dsr/health.py)."""
    record_worker_heartbeat()
