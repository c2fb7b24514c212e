"""Celery tasks: thin wrappers around reporting.services. Progress and outcome live in ReportJob.

`acks_late` with `reject_on_worker_lost`: the message is acknowledged only when the task returns,
so a worker killed mid-build leaves the message on the broker to be delivered again; `run_job`
skips a job that already finished and reruns one left half-done, so nothing is lost or doubled.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_report_job(job_id: int, authority_id: int | None) -> None:
    services.run_job(job_id, authority_id=authority_id)


@shared_task(acks_late=True, ignore_result=True)
def fail_stuck_jobs() -> int:
    """Every five minutes (Celery beat): fail report jobs that lost their task or worker."""
    return len(services.fail_stuck_jobs())


@shared_task(acks_late=True, ignore_result=True)
def take_due_census_snapshots() -> int:
    """Daily (Celery beat): the day after a census date, queue every authority's snapshot."""
    return len(services.schedule_due_snapshots(today=timezone.localdate()))


@shared_task(acks_late=True, ignore_result=True)
def expire_generated_files() -> int:
    """Hourly (Celery beat): delete generated files holding personal data once they expire."""
    return len(services.expire_files())


@shared_task(acks_late=True, ignore_result=True)
def send_return_reminder(authority_id: int, census_date: str, today: str) -> int:
    """The national analyst's reminder to an authority's lead (sent once a day at most)."""
    import datetime as dt

    return services.send_return_reminder(
        authority_id=authority_id,
        census_date=dt.date.fromisoformat(census_date),
        today=dt.date.fromisoformat(today),
    )
