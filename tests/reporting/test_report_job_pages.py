"""Building files from the pages: the job's progress, errors, retry and the checked download."""

import pytest

from reporting.models import JobKind, ReportJob
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


def url(authority, census, suffix=""):
    return f"/reporting/{authority.pk}/{census.isoformat()}/{suffix}"


def test_building_from_the_browser_queues_a_job_and_shows_its_progress(
    client, lead, authority, census, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(authority, census, "build/"))
    job = ReportJob.objects.get()
    assert response.url == f"/reporting/jobs/{job.pk}/"
    assert len(callbacks) == 1
    page = client.get(response.url).content.decode()
    assert "Queued" in page and 'hx-trigger="every 2s"' in page and "Refresh" in page


def test_a_failed_job_shows_its_error_and_a_retry_button(client, lead, authority, census):
    job = run(JobKind.AUTHORITY_CSV, authority=authority, user=lead)
    client.force_login(lead)
    body = client.get(f"/reporting/jobs/{job.pk}/").content.decode()
    assert "The build failed" in body and "Retry" in body


def test_a_finished_file_downloads_through_the_checked_view(
    client, lead, viewer, known_register, authority, census
):
    build_return(authority)
    job = run(JobKind.AUTHORITY_CSV, authority=authority, user=lead)
    client.force_login(viewer)
    response = client.get(f"/reporting/jobs/{job.pk}/download/")
    assert response.status_code == 200
    assert b"People on the register by category" in b"".join(response.streaming_content)
    assert "attachment" in response["Content-Disposition"]


def test_every_file_download_is_audited_with_who_and_which_file(
    client, viewer, known_register, authority, census
):
    from registers.models import AuditEvent

    build_return(authority)
    job = run(JobKind.AUTHORITY_CSV, authority=authority)
    client.force_login(viewer)
    client.get(f"/reporting/jobs/{job.pk}/download/")
    client.get(f"/reporting/jobs/{job.pk}/download/")
    events = AuditEvent.objects.filter(action="report.downloaded", object_id=str(job.pk))
    assert events.count() == 2
    assert {(e.actor_id, e.authority_id) for e in events} == {(viewer.pk, authority.pk)}
