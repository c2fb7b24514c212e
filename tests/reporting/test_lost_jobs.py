"""Report jobs that cannot get lost: a build whose task cannot be queued (the broker is down or
hangs) is marked failed with the reason at once, never a 500 and never "Queued" for ever; a build
whose worker was killed whole (no heartbeat) is marked failed by the sweep and can be retried."""

import datetime as dt
import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from registers.models import AuditEvent
from reporting import services
from reporting.models import ReportJob
from tests.faults import celery_broker

CENSUS = "2025-09-25"


def _build(client, authority):
    started = time.monotonic()
    response = client.post(f"/reporting/{authority.pk}/{CENSUS}/build/")
    return response, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_a_build_queued_while_the_broker_is_down_fails_with_the_reason_and_no_500(
    client, lead, authority, own_redis
):
    own_redis.stop()
    client.force_login(lead)
    with celery_broker(own_redis.url):
        response, seconds = _build(client, authority)
    assert response.status_code == 302 and seconds < 5
    job = ReportJob.objects.get(kind="authority_return")
    assert job.status == "failed"
    assert job.error == services.QUEUE_FAILED_MESSAGE
    page = client.get(response.url).content.decode()
    assert "could not be queued" in page
    assert f"/reporting/jobs/{job.pk}/retry/" in page
    assert AuditEvent.objects.filter(action="report.queue_failed", object_id=str(job.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_a_build_queued_while_the_broker_hangs_fails_within_seconds(
    client, lead, authority, own_redis
):
    own_redis.hang()
    client.force_login(lead)
    with celery_broker(own_redis.url):
        response, seconds = _build(client, authority)
    own_redis.resume()
    assert response.status_code == 302 and seconds < 10
    assert ReportJob.objects.get(kind="authority_return").status == "failed"


@pytest.mark.django_db(transaction=True)
def test_a_job_failed_for_want_of_a_broker_is_queued_again_by_retry_once_it_is_back(
    client, lead, authority, own_redis
):
    client.force_login(lead)
    own_redis.stop()
    with celery_broker(own_redis.url):
        _build(client, authority)
    job = ReportJob.objects.get(kind="authority_return")
    own_redis.start()
    with celery_broker(own_redis.url):
        client.post(f"/reporting/jobs/{job.pk}/retry/")
    job.refresh_from_db()
    assert job.status == "queued" and job.error == ""


@pytest.fixture
def running(known_register, authority, lead, census, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():  # the task never runs: as if its worker died
        job = services.request_job(
            lead, kind="authority_return", authority=authority, census_date=census
        )
    started = timezone.now()
    ReportJob.objects.filter(pk=job.pk).update(
        status="running", started_at=started, heartbeat_at=started, attempts=1
    )
    job.refresh_from_db()
    return job


def _silent_for(job, seconds):
    ReportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


@pytest.mark.django_db
def test_a_running_job_whose_worker_went_silent_is_failed_by_the_sweep(running, settings):
    settings.DSR_JOB_RUNNING_LIMIT_SECONDS = 300
    _silent_for(running, 301)
    assert services.fail_stuck_jobs() == [running.pk]
    running.refresh_from_db()
    assert running.status == "failed"
    assert "stopped answering for 5 minutes" in running.error
    event = AuditEvent.objects.get(action="report.stuck", object_id=str(running.pk))
    assert event.changes["status"] == "running"


@pytest.mark.django_db
def test_a_running_job_with_a_recent_heartbeat_is_left_running(running, settings):
    settings.DSR_JOB_RUNNING_LIMIT_SECONDS = 300
    _silent_for(running, 60)
    assert services.fail_stuck_jobs() == []
    assert services.fail_if_stuck(running).status == "running"


@pytest.mark.django_db
def test_the_sweep_also_fails_jobs_that_lost_their_task(running, settings):
    settings.DSR_JOB_QUEUED_LIMIT_SECONDS = 600
    ReportJob.objects.filter(pk=running.pk).update(
        status="queued", queued_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert services.fail_stuck_jobs() == [running.pk]
    running.refresh_from_db()
    assert "No worker started this build" in running.error


@pytest.mark.django_db
def test_a_job_whose_worker_was_lost_shows_why_and_builds_on_retry(client, lead, running):
    _silent_for(running, 3600)
    client.force_login(lead)
    page = client.get(f"/reporting/jobs/{running.pk}/").content.decode()
    assert "stopped answering" in page
    client.post(f"/reporting/jobs/{running.pk}/retry/")
    running.refresh_from_db()
    assert running.status == "queued"
    assert services.run_job(running.pk, authority_id=running.authority_id).status == "done"


@pytest.mark.django_db(transaction=True)
def test_a_running_build_writes_its_heartbeat(monkeypatch, settings, lead, authority, nithsdale):
    settings.DSR_JOB_HEARTBEAT_SECONDS = 0.2
    monkeypatch.setitem(
        services.BUILDERS, "authority_csv", lambda scope, job: time.sleep(1.2) or (b"x", "x.csv")
    )
    job = ReportJob.objects.create(
        kind="authority_csv", authority=authority, census_date=dt.date(2025, 9, 25)
    )
    done = services.run_job(job.pk, authority_id=authority.pk)
    assert done.status == "done", done.error
    assert done.heartbeat_at - done.started_at >= dt.timedelta(seconds=0.8)


def test_the_broker_redelivers_a_lost_task_only_after_the_longest_build():
    options = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["visibility_timeout"] > django_settings.CELERY_TASK_TIME_LIMIT
    assert django_settings.DSR_JOB_RUNNING_LIMIT_SECONDS > django_settings.DSR_JOB_HEARTBEAT_SECONDS


def test_the_redis_that_make_run_starts_keeps_its_queue_across_restarts():
    script = (Path(django_settings.BASE_DIR) / "scripts" / "services.sh").read_text()
    start = re.search(r"^\s*redis-server .*$", script, re.MULTILINE).group(0)
    assert "--appendonly yes" in start
    assert "--dir" in start  # its append-only file in var/redis, not the working directory
