"""Build jobs: idempotent, failures recorded and retried, snapshots scheduled after a census."""

import datetime as dt

import pytest

from registers.models import IntegrationAuthority
from reporting import services
from reporting.models import CensusSnapshot, JobKind, ReportJob
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


def test_running_a_finished_job_again_changes_nothing(known_register, authority, census):
    build_return(authority)
    job = run(JobKind.AUTHORITY_CSV, authority=authority)
    first_name, finished = job.output.name, job.finished_at
    again = services.run_job(job.pk, authority_id=authority.pk)
    assert (again.output.name, again.finished_at, again.attempts) == (first_name, finished, 1)


def test_a_job_left_running_by_a_dead_worker_reruns_and_replaces_its_own_output(
    known_register, authority, census
):
    build_return(authority)
    job = run(JobKind.AUTHORITY_CSV, authority=authority)
    ReportJob.objects.filter(pk=job.pk).update(status="running")  # as if killed before acking
    rerun = services.run_job(job.pk, authority_id=authority.pk)
    assert (rerun.status, rerun.attempts, rerun.output.name) == ("done", 2, job.output.name)


def test_a_failed_build_records_its_error_and_can_be_retried(
    known_register, authority, lead, census, django_capture_on_commit_callbacks
):
    job = run(JobKind.AUTHORITY_PDF, authority=authority, user=lead)  # no return built yet
    assert job.status == "failed" and job.error
    build_return(authority)
    with django_capture_on_commit_callbacks() as callbacks:
        services.retry_job(lead, job)
    job.refresh_from_db()
    assert (job.status, job.error, len(callbacks)) == ("queued", "", 1)
    assert services.run_job(job.pk, authority_id=authority.pk).status == "done"


def test_asking_twice_for_the_same_build_queues_it_once(
    known_register, authority, lead, census, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        first = services.request_job(
            lead, kind="authority_return", authority=authority, census_date=census
        )
        second = services.request_job(
            lead, kind="authority_return", authority=authority, census_date=census
        )
    assert first == second and len(callbacks) == 1


def test_the_day_after_a_census_date_every_authority_gets_one_snapshot_job(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        jobs = services.schedule_due_snapshots(today=dt.date(2025, 9, 26))
        again = services.schedule_due_snapshots(today=dt.date(2025, 9, 26))
    assert len(jobs) == IntegrationAuthority.objects.count() == 31
    assert again == [] and len(callbacks) == 31
    assert services.schedule_due_snapshots(today=dt.date(2025, 9, 25)) == []


def test_a_scheduled_snapshot_job_freezes_the_register(known_register, authority):
    job = ReportJob.objects.create(
        kind=JobKind.SNAPSHOT, authority=authority, census_date=dt.date(2025, 9, 25)
    )
    assert services.run_job(job.pk, authority_id=authority.pk).status == "done"
    assert CensusSnapshot.objects.get(authority=authority).people == 11


def test_the_beat_schedule_runs_the_snapshot_check_daily():
    from django.conf import settings

    from dsr.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["census-snapshots"]
    assert (
        entry["task"] in app.tasks or entry["task"] == "reporting.tasks.take_due_census_snapshots"
    )
    assert app.tasks["reporting.tasks.run_report_job"].acks_late
