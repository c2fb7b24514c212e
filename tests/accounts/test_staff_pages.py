import pytest

from accounts.models import LocalityUserObjectPermission, Membership, Role, User
from registers.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(practitioner, authority):
    return Membership.objects.get(user=practitioner, authority=authority)


def test_the_lead_sees_their_staff_with_localities(client, lead, practitioner, viewer):
    client.force_login(lead)
    body = client.get("/staff/").content.decode()
    assert practitioner.email in body
    assert viewer.email in body
    assert "Nithsdale" in body


@pytest.mark.parametrize("path", ["/staff/", "/staff/add/", "/staff/lead/"])
def test_staff_pages_are_for_the_lead_only(client, practitioner, path):
    client.force_login(practitioner)
    assert client.get(path).status_code == 403


def test_a_member_of_another_authority_is_not_found(client, lead, other_lead, other_authority):
    membership = Membership.objects.get(user=other_lead)
    client.force_login(lead)
    assert client.get(f"/staff/{membership.pk}/").status_code == 404


def test_adding_a_member_by_email_invites_them_and_is_audited(
    client, lead, nithsdale, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/staff/add/",
            {
                "email": "New.Person@Example.scot",
                "role": "practitioner",
                "localities": [nithsdale.pk],
            },
        )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.scot")
    assert Membership.objects.get(user=user).role == Role.PRACTITIONER
    assert len(mailoutbox) == 1
    assert AuditEvent.objects.filter(action="staff.added", actor=lead).exists()


def test_adding_with_a_bad_email_is_refused_and_saves_nothing(client, lead):
    client.force_login(lead)
    response = client.post("/staff/add/", {"email": "not-an-email", "role": "viewer"})
    assert "Enter an email address like" in response.content.decode()
    assert not User.objects.filter(email="not-an-email").exists()


def test_adding_someone_already_on_the_staff_is_explained(client, lead, practitioner):
    client.force_login(lead)
    response = client.post("/staff/add/", {"email": practitioner.email, "role": "viewer"})
    assert "already on your staff" in response.content.decode()


def test_the_lead_changes_a_role(client, lead, staff):
    client.force_login(lead)
    client.post(f"/staff/{staff.pk}/", {"action": "role", "role": "viewer"})
    staff.refresh_from_db()
    assert staff.role == Role.VIEWER
    assert AuditEvent.objects.filter(action="staff.role_changed").exists()


def test_the_lead_grants_and_revokes_localities(client, lead, staff, nithsdale, stewartry):
    client.force_login(lead)
    client.post(f"/staff/{staff.pk}/", {"action": "grants", "localities": [stewartry.pk]})
    granted = set(
        LocalityUserObjectPermission.objects.filter(user=staff.user).values_list(
            "content_object__name", flat=True
        )
    )
    assert granted == {"Stewartry"}
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"staff.locality_granted", "staff.locality_revoked"} <= actions


def test_the_lead_removes_a_member(client, lead, staff):
    client.force_login(lead)
    page = client.post(f"/staff/{staff.pk}/remove/").content.decode()
    assert "Are you sure you want to remove" in page
    assert Membership.objects.filter(pk=staff.pk).exists()
    client.post(f"/staff/{staff.pk}/remove/", {"confirmed": "yes"})
    assert not Membership.objects.filter(pk=staff.pk).exists()


def test_the_lead_hands_over_the_lead_role(client, lead, staff, authority):
    client.force_login(lead)
    response = client.post("/staff/lead/", {"to_membership": staff.pk, "confirm": "on"})
    assert response.status_code == 302
    assert Membership.objects.get(authority=authority, role=Role.LEAD).user == staff.user
    assert AuditEvent.objects.filter(action="staff.lead_handed_over").exists()


def test_handing_over_needs_confirmation(client, lead, staff, authority):
    client.force_login(lead)
    response = client.post("/staff/lead/", {"to_membership": staff.pk})
    assert "Confirm that you are handing over" in response.content.decode()
    assert Membership.objects.get(authority=authority, role=Role.LEAD).user == lead


@pytest.mark.parametrize("rows", [3, 40])
def test_the_staff_list_runs_a_constant_number_of_queries(
    client, lead, authority, nithsdale, rows, django_assert_max_num_queries
):
    from tests.factories import make_member

    for i in range(rows):
        make_member(authority, "practitioner", [nithsdale], email=f"p{i}@example.scot")
    client.force_login(lead)
    with django_assert_max_num_queries(15):
        assert client.get("/staff/").status_code == 200
