"""A report job whose task was lost (no worker, a worker of another database took it) does not sit
at "Queued" forever: past DSR_JOB_QUEUED_LIMIT_SECONDS it is marked failed with the reason, its
page offers Retry and Cancel, and building the same file again queues a fresh job."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from registers.models import AuditEvent
from reporting import services
from reporting.models import ReportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(known_register, authority, lead, census, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():  # the task is never run: as if lost
        return services.request_job(
            lead, kind="authority_return", authority=authority, census_date=census
        )


def _age(job, seconds):
    ReportJob.objects.filter(pk=job.pk).update(
        queued_at=timezone.now() - dt.timedelta(seconds=seconds)
    )
    job.refresh_from_db()


def test_a_job_queued_past_the_limit_is_marked_failed_with_the_reason(queued, settings):
    settings.DSR_JOB_QUEUED_LIMIT_SECONDS = 600
    _age(queued, 601)
    job = services.fail_if_stuck(queued)
    assert job.status == "failed"
    assert "No worker started this build within 10 minutes" in job.error
    assert AuditEvent.objects.filter(action="report.stuck", object_id=str(job.pk)).exists()


def test_a_job_within_the_limit_stays_queued(queued, settings):
    settings.DSR_JOB_QUEUED_LIMIT_SECONDS = 600
    _age(queued, 30)
    assert services.fail_if_stuck(queued).status == "queued"


def test_the_job_page_shows_a_stuck_job_as_failed_with_retry_and_cancel(client, lead, queued):
    _age(queued, 3600)
    client.force_login(lead)
    page = client.get(f"/reporting/jobs/{queued.pk}/").content.decode()
    assert "The build failed" in page
    assert "No worker started this build" in page
    assert f"/reporting/jobs/{queued.pk}/retry/" in page
    assert f"/reporting/jobs/{queued.pk}/cancel/" in page


def test_building_again_never_returns_a_stuck_job(
    queued, lead, authority, census, django_capture_on_commit_callbacks
):
    _age(queued, 3600)
    with django_capture_on_commit_callbacks() as callbacks:
        again = services.request_job(
            lead, kind="authority_return", authority=authority, census_date=census
        )
    assert again.pk != queued.pk and again.status == "queued" and len(callbacks) == 1
    queued.refresh_from_db()
    assert queued.status == "failed"


def test_a_stuck_job_can_be_retried_from_its_page_and_then_builds(client, lead, queued):
    _age(queued, 3600)
    client.force_login(lead)
    client.get(f"/reporting/jobs/{queued.pk}/")
    client.post(f"/reporting/jobs/{queued.pk}/retry/")
    queued.refresh_from_db()
    assert queued.status == "queued"
    assert timezone.now() - queued.queued_at < dt.timedelta(minutes=1)
    assert services.run_job(queued.pk, authority_id=queued.authority_id).status == "done"


def test_a_queued_job_can_be_cancelled_and_its_late_task_leaves_it_alone(client, lead, queued):
    client.force_login(lead)
    client.post(f"/reporting/jobs/{queued.pk}/cancel/")
    queued.refresh_from_db()
    assert queued.status == "cancelled" and queued.is_finished
    assert AuditEvent.objects.filter(action="report.cancelled", actor=lead).exists()
    assert services.run_job(queued.pk, authority_id=queued.authority_id).status == "cancelled"
    assert (
        "This build was cancelled" in client.get(f"/reporting/jobs/{queued.pk}/").content.decode()
    )


def test_a_running_job_cannot_be_cancelled(client, lead, queued):
    ReportJob.objects.filter(pk=queued.pk).update(status="running")
    client.force_login(lead)
    response = client.post(f"/reporting/jobs/{queued.pk}/cancel/", follow=True)
    assert "Only a queued or failed build can be cancelled." in response.content.decode()
    queued.refresh_from_db()
    assert queued.status == "running"


def test_another_authoritys_lead_cannot_cancel_a_job(client, other_lead, queued):
    client.force_login(other_lead)
    assert client.post(f"/reporting/jobs/{queued.pk}/cancel/").status_code == 404
    queued.refresh_from_db()
    assert queued.status == "queued"


def test_a_task_whose_job_row_does_not_exist_does_nothing(authority):
    # The task of another instance's database, taken from a shared broker.
    assert services.run_job(987654, authority_id=authority.pk) is None


def test_a_job_is_queued_only_once_its_row_is_committed(
    known_register, authority, lead, census, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                services.request_job(
                    lead, kind="authority_return", authority=authority, census_date=census
                )
                raise RuntimeError("the request fails after asking")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not ReportJob.objects.exists()


def test_the_sweep_fails_stuck_jobs_of_every_authority_and_leaves_fresh_ones(
    queued, other_lead, other_authority, census, settings, django_capture_on_commit_callbacks
):
    settings.DSR_JOB_QUEUED_LIMIT_SECONDS = 600
    with django_capture_on_commit_callbacks():
        fresh = services.request_job(
            other_lead, kind="authority_return", authority=other_authority, census_date=census
        )
    _age(queued, 601)
    assert services.fail_stuck_jobs() == [queued.pk]
    queued.refresh_from_db()
    fresh.refresh_from_db()
    assert (queued.status, fresh.status) == ("failed", "queued")
    assert services.fail_stuck_jobs() == []  # a second run finds nothing more to do
    assert AuditEvent.objects.filter(action="report.stuck").count() == 1


def test_the_sweep_runs_every_five_minutes_in_beat(settings):
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "reporting.tasks.fail_stuck_jobs"
    )
    assert entry["schedule"].minute == set(range(0, 60, 5))
