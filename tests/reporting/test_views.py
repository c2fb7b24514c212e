"""Pages and downloads: who may see which return and file."""

import pytest

from reporting.models import JobKind, ReportJob
from tests.factories import AuthorityFactory, PersonFactory, make_member
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


def url(authority, census, suffix=""):
    return f"/reporting/{authority.pk}/{census.isoformat()}/{suffix}"


def test_lead_sees_tables_warnings_and_the_people_behind_them(
    client, lead, known_register, authority, census
):
    build_return(authority)
    client.force_login(lead)
    body = client.get(url(authority, census)).content.decode()
    assert "People on the register by category" in body
    assert "review overdue on the census date" in body
    assert known_register[1].local_reference in body
    assert "Submit to the national team" in body


def test_lead_submits_from_the_page(client, lead, known_register, authority, census):
    ret = build_return(authority)
    client.force_login(lead)
    response = client.post(url(authority, census, "submit/"), follow=True)
    assert "Return submitted" in response.content.decode()
    ret.refresh_from_db()
    assert ret.status == "submitted"


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


def test_analyst_queues_a_national_file_and_accepts_or_sends_back_returns(
    client, analyst, lead, known_register, authority, census, django_capture_on_commit_callbacks
):
    from reporting import services

    ret = services.submit_return(lead, build_return(authority))
    client.force_login(analyst)
    page = client.get(f"/reporting/national/{census.isoformat()}/").content.decode()
    assert "Dumfries and Galloway" in page and "Accept" in page
    response = client.post(
        f"/reporting/national/returns/{ret.pk}/decide/",
        {"decision": "send_back", "comment": ""},
        follow=True,
    )
    assert "Say what the authority needs to correct" in response.content.decode()
    client.post(f"/reporting/national/returns/{ret.pk}/decide/", {"decision": "accept"})
    ret.refresh_from_db()
    assert ret.status == "accepted"
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            f"/reporting/national/{census.isoformat()}/files/", {"kind": "national_xlsx"}
        )
    assert response.status_code == 302 and len(callbacks) == 1
    assert ReportJob.objects.get(kind="national_xlsx").authority is None


def test_a_date_that_is_not_a_census_date_is_not_found(client, lead, authority):
    client.force_login(lead)
    assert client.get(f"/reporting/{authority.pk}/2025-09-24/").status_code == 404


@pytest.mark.parametrize("authorities", [2, 25])
def test_national_page_runs_a_constant_number_of_queries(
    client, analyst, census, authorities, django_assert_max_num_queries
):
    from reporting.models import AuthorityReturn

    codes = [f"S3700{n:04d}" for n in range(100, 100 + authorities)]
    for code in codes:
        AuthorityReturn.objects.create(
            authority=AuthorityFactory(code=code, name=code), census_date=census
        )
    client.force_login(analyst)
    with django_assert_max_num_queries(15):
        assert client.get(f"/reporting/national/{census.isoformat()}/").status_code == 200


@pytest.mark.parametrize("people", [5, 60])
def test_return_page_runs_a_constant_number_of_queries(
    client, lead, nithsdale, authority, census, people, django_assert_max_num_queries
):
    PersonFactory.create_batch(people, locality=nithsdale, next_review_due=census)
    build_return(authority)
    for _ in range(3):
        run(JobKind.AUTHORITY_CSV, authority=authority)
    client.force_login(lead)
    # 20: the layout reads the user's authorities once (the header and the authority switcher).
    with django_assert_max_num_queries(20):
        assert client.get(url(authority, census)).status_code == 200


@pytest.mark.parametrize("authorities", [1, 6])
def test_census_index_runs_a_constant_number_of_queries(
    client, census, authorities, django_assert_max_num_queries
):
    user = None
    for n in range(authorities):
        authority = AuthorityFactory(code=f"S3700{n + 100:04d}", name=f"IA {n}")
        user = (
            make_member(authority, "viewer", email="multi@example.scot") if user is None else user
        )
        if n:
            from accounts.models import Membership

            Membership.objects.create(user=user, authority=authority, role="viewer")
    client.force_login(user)
    # 18: the layout reads the user's authorities once (the header and the authority switcher).
    with django_assert_max_num_queries(18):
        body = client.get("/reporting/").content.decode()
    assert body.count("Not built") == 8 * authorities
