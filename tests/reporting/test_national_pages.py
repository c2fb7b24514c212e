"""The national analyst's pages: the census index, national files, deciding on returns."""

import pytest

from reporting.models import ReportJob
from tests.factories import AuthorityFactory, make_member
from tests.reporting.conftest import build_return

pytestmark = pytest.mark.django_db


def url(authority, census, suffix=""):
    return f"/reporting/{authority.pk}/{census.isoformat()}/{suffix}"


def test_analyst_queues_a_national_file_and_accepts_or_sends_back_returns(
    client,
    analyst,
    lead,
    other_lead,
    leith,
    known_register,
    authority,
    census,
    django_capture_on_commit_callbacks,
):
    from reporting import services

    ret = services.submit_return(lead, build_return(authority))
    services.submit_return(other_lead, build_return(leith.authority))
    client.force_login(analyst)
    page = client.get(f"/reporting/national/{census.isoformat()}/").content.decode()
    assert "Dumfries and Galloway" in page and "Review the return and decide" in page
    response = client.post(
        f"/reporting/national/returns/{ret.pk}/decide/",
        {"decision": "send_back", "comment": ""},
        follow=True,
    )
    assert "Say what the authority needs to correct" in response.content.decode()
    client.post(
        f"/reporting/national/returns/{ret.pk}/decide/", {"decision": "accept", "confirmed": "yes"}
    )
    ret.refresh_from_db()
    assert ret.status == "accepted"
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            f"/reporting/national/{census.isoformat()}/files/", {"kind": "national_xlsx"}
        )
    assert response.status_code == 302 and len(callbacks) == 1
    assert ReportJob.objects.get(kind="national_xlsx").authority is None


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


def test_sign_in_lands_the_analyst_on_the_national_page_of_the_latest_submitted_census(
    client, analyst, lead, known_register, authority, census
):
    from reporting import services

    services.submit_return(lead, build_return(authority))
    client.force_login(analyst)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == f"/reporting/national/{census.isoformat()}/"


def test_sign_in_lands_staff_on_their_register(client, lead):
    client.force_login(lead)
    assert client.get("/").url == "/register/"


def test_national_page_says_in_advance_why_files_cannot_be_built_and_queues_nothing(
    client, analyst, lead, known_register, authority, census
):
    from reporting import services

    services.submit_return(lead, build_return(authority))
    client.force_login(analyst)
    page = client.get(f"/reporting/national/{census.isoformat()}/").content.decode()
    assert "National files cannot be built yet: 1 of the authorities" in page
    assert "Build file" not in page
    response = client.post(
        f"/reporting/national/{census.isoformat()}/files/", {"kind": "national_csv"}, follow=True
    )
    assert "cannot be built yet" in response.content.decode()
    assert not ReportJob.objects.filter(kind="national_csv").exists()


def test_analyst_sees_a_returns_tables_before_deciding_and_each_decision_asks_to_confirm(
    client, analyst, lead, known_register, authority, census
):
    from reporting import services

    ret = services.submit_return(lead, build_return(authority))
    client.force_login(analyst)
    page = client.get(f"/reporting/national/returns/{ret.pk}/").content.decode()
    assert "People on the register by category" in page and "Urgent" in page
    assert "<td>5</td>" in page  # 5 urgent in the known register
    decide = f"/reporting/national/returns/{ret.pk}/decide/"
    confirm = client.post(decide, {"decision": "send_back", "comment": "Check the delays"})
    assert "Send back Dumfries and Galloway" in confirm.content.decode()
    ret.refresh_from_db()
    assert ret.status == "submitted"
    confirm = client.post(decide, {"decision": "accept"})
    assert "Yes, accept" in confirm.content.decode()
    ret.refresh_from_db()
    assert ret.status == "submitted"
    client.post(
        decide, {"decision": "send_back", "comment": "Check the delays", "confirmed": "yes"}
    )
    ret.refresh_from_db()
    assert (ret.status, ret.comment) == ("returned", "Check the delays")


def test_staff_cannot_open_the_national_view_of_a_return(client, lead, known_register, authority):
    ret = build_return(authority)
    client.force_login(lead)
    assert client.get(f"/reporting/national/returns/{ret.pk}/").status_code == 404
