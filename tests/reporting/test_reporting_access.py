"""Who may see which return and file."""

import pytest

from reporting.models import JobKind, ReportJob
from tests.factories import PersonFactory
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


def url(authority, census, suffix=""):
    return f"/reporting/{authority.pk}/{census.isoformat()}/{suffix}"


def test_staff_of_another_authority_cannot_see_the_return_or_its_files(
    client, other_lead, known_register, authority, census
):
    build_return(authority)
    job = run(JobKind.AUTHORITY_CSV, authority=authority)
    client.force_login(other_lead)
    assert client.get(url(authority, census)).status_code == 404
    assert client.get(f"/reporting/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/reporting/jobs/{job.pk}/download/").status_code == 404
    assert client.post(url(authority, census, "build/")).status_code == 404


def test_the_national_analyst_never_reaches_person_profiles_snapshots_or_authority_files(
    client, analyst, lead, person, known_register, authority, census
):
    build_return(authority)
    profile = run(JobKind.PERSON_PROFILE, authority=authority, census_date=None, person=person)
    snapshot = run(JobKind.SNAPSHOT, authority=authority)
    csv_file = run(JobKind.AUTHORITY_CSV, authority=authority)
    client.force_login(analyst)
    for job in (profile, snapshot, csv_file):
        assert client.get(f"/reporting/jobs/{job.pk}/download/").status_code == 404
        assert client.get(f"/reporting/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/reporting/people/{person.pk}/profile/").status_code == 404
    assert client.post(f"/reporting/people/{person.pk}/profile/").status_code == 404
    assert client.get(url(authority, census)).status_code == 404


def test_staff_cannot_build_or_download_national_files(
    client, lead, census, django_capture_on_commit_callbacks
):
    job = ReportJob.objects.create(kind=JobKind.NATIONAL_CSV, census_date=census)
    client.force_login(lead)
    assert client.get(f"/reporting/national/{census.isoformat()}/").status_code == 404
    assert (
        client.post(
            f"/reporting/national/{census.isoformat()}/files/", {"kind": "national_csv"}
        ).status_code
        == 404
    )
    assert client.get(f"/reporting/jobs/{job.pk}/download/").status_code == 404


def test_a_practitioner_cannot_build_a_profile_of_someone_outside_their_localities(
    client, practitioner, stewartry
):
    outside = PersonFactory(locality=stewartry)
    client.force_login(practitioner)
    assert client.post(f"/reporting/people/{outside.pk}/profile/").status_code == 404
