"""Generated files that hold personal data expire: deleted from storage, audited, and a download
afterwards says the file expired and where to build it again. National files are kept."""

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from registers.models import AuditEvent
from reporting import services
from reporting.models import EXPIRING_KINDS, NATIONAL_KINDS, JobKind, ReportJob
from reporting.tasks import expire_generated_files
from tests.factories import PersonFactory
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


def test_files_holding_personal_data_are_those_of_an_authority_or_a_person():
    assert set(EXPIRING_KINDS) == {
        JobKind.AUTHORITY_CSV,
        JobKind.AUTHORITY_XLSX,
        JobKind.AUTHORITY_PDF,
        JobKind.PERSON_PROFILE,
    }
    assert not set(EXPIRING_KINDS) & set(NATIONAL_KINDS)


def test_a_built_profile_expires_after_the_configured_number_of_days(settings, person, lead):
    settings.DSR_FILE_RETENTION_DAYS = 3
    before = timezone.now()
    job = run(JobKind.PERSON_PROFILE, authority=person.authority, census_date=None, person=person)
    assert before + dt.timedelta(days=3) <= job.expires_at <= timezone.now() + dt.timedelta(days=3)


def test_the_scheduled_task_deletes_expired_files_from_storage_and_audits_each(
    known_register, authority, census
):
    build_return(authority)
    old = run(JobKind.AUTHORITY_CSV, authority=authority)
    fresh = run(JobKind.AUTHORITY_XLSX, authority=authority)
    ReportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    path = old.output.name
    assert default_storage.exists(path)

    assert expire_generated_files() == 1  # the Celery beat task
    assert expire_generated_files() == 0  # once only

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert not default_storage.exists(path)
    assert (old.output.name, old.has_file, old.is_expired) == ("", False, True)
    assert fresh.has_file and default_storage.exists(fresh.output.name)
    event = AuditEvent.objects.get(action="report.file_expired")
    assert (event.authority_id, event.object_type, event.object_id) == (
        authority.pk,
        "reportjob",
        str(old.pk),
    )
    assert event.changes["kind"] == JobKind.AUTHORITY_CSV


def test_national_files_hold_aggregates_only_and_are_kept(
    known_register, authority, lead, leith, other_lead, census, analyst
):
    PersonFactory.create_batch(7, locality=leith)
    services.submit_return(lead, build_return(authority))
    services.submit_return(other_lead, build_return(leith.authority))
    job = run(JobKind.NATIONAL_CSV, user=analyst)
    assert job.status == "done", job.error
    assert job.expires_at is None
    services.expire_files(now=timezone.now() + dt.timedelta(days=3650))
    job.refresh_from_db()
    assert job.has_file and default_storage.exists(job.output.name)


def test_the_job_page_says_when_the_file_will_be_deleted(client, lead, person):
    job = run(JobKind.PERSON_PROFILE, authority=person.authority, census_date=None, person=person)
    client.force_login(lead)
    body = client.get(f"/reporting/jobs/{job.pk}/").content.decode()
    assert "It holds personal data, so it is deleted on" in body
    assert timezone.localtime(job.expires_at).strftime("%-d %B %Y") in body


def test_a_download_after_expiry_says_expired_and_how_to_build_it_again(client, lead, person):
    job = run(JobKind.PERSON_PROFILE, authority=person.authority, census_date=None, person=person)
    services.expire_files(now=job.expires_at)
    client.force_login(lead)

    response = client.get(f"/reporting/jobs/{job.pk}/download/")
    assert response.status_code == 410
    body = response.content.decode()
    assert "This file has expired" in body
    assert f'href="/reporting/people/{person.pk}/profile/"' in body
    assert "build the profile again" in body
    page = client.get(f"/reporting/jobs/{job.pk}/").content.decode()
    assert "This file expired and was deleted on" in page
    assert not AuditEvent.objects.filter(action="report.downloaded").exists()


def test_an_expired_file_of_another_authority_is_still_a_404(client, other_lead, person):
    job = run(JobKind.PERSON_PROFILE, authority=person.authority, census_date=None, person=person)
    services.expire_files(now=job.expires_at)
    client.force_login(other_lead)
    assert client.get(f"/reporting/jobs/{job.pk}/download/").status_code == 404


def test_the_beat_schedule_expires_files_every_hour(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["expire-generated-files"]
    assert entry["task"] == "reporting.tasks.expire_generated_files"
    assert entry["schedule"].minute == {5} and len(entry["schedule"].hour) == 24
