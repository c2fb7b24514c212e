"""The job page says what state the build is in, and only that; when it is done it links to the
result (the file, or the page the result shows on)."""

import pytest

from reporting.models import JobKind, ReportJob
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


def job_page(client, user, job) -> str:
    client.force_login(user)
    return client.get(f"/reporting/jobs/{job.pk}/").content.decode()


def test_a_queued_build_says_it_is_waiting_and_nothing_about_finishing(
    client, lead, authority, census
):
    job = ReportJob.objects.create(
        kind=JobKind.AUTHORITY_CSV, authority=authority, census_date=census, requested_by=lead
    )
    body = job_page(client, lead, job)
    assert "Waiting for a worker to start the build" in body
    assert "Done." not in body and "Finished" not in body and "ready" not in body


def test_a_done_file_build_links_to_its_download_and_says_it_is_ready(
    client, lead, known_register, authority, census
):
    build_return(authority)
    job = run(JobKind.AUTHORITY_CSV, authority=authority, user=lead)
    body = job_page(client, lead, job)
    assert "Your file is ready." in body
    assert f'href="/reporting/jobs/{job.pk}/download/" id="job-result"' in body
    assert "queued" not in body.lower()
    assert "<progress" not in body


def test_a_done_build_without_a_file_links_to_the_return_it_built(
    client, lead, known_register, authority, census
):
    build_return(authority)
    job = ReportJob.objects.get(kind=JobKind.AUTHORITY_RETURN)
    body = job_page(client, lead, job)
    assert "Finished." not in body
    assert (
        f'<a href="/reporting/{authority.pk}/{census.isoformat()}/" id="job-result">'
        "Go to the return for"
    ) in body


def test_asking_for_a_build_leaves_no_queued_message_behind(
    client, lead, authority, census, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/reporting/{authority.pk}/{census.isoformat()}/build/")
    page = client.get(response.url).content.decode()
    assert ": queued." not in page
