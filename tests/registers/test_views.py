import pytest

from registers.models import AuditEvent
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_register_list_shows_only_visible_people_with_counts(
    client, practitioner, nithsdale, stewartry, other_person
):
    mine = PersonFactory(locality=nithsdale, at_risk=True)
    hidden = PersonFactory(locality=stewartry)
    client.force_login(practitioner)
    response = client.get("/register/")
    body = response.content.decode()
    assert mine.local_reference in body
    assert hidden.local_reference not in body
    assert other_person.local_reference not in body
    assert '<span class="dsr-counts__n">1</span> urgent' in body


def test_empty_register_explains_why(client, no_role_user):
    client.force_login(no_role_user)
    assert "ask your authority" in client.get("/register/").content.decode()


@pytest.mark.parametrize("rows", [5, 120])
def test_register_list_runs_a_constant_number_of_queries(
    client, lead, nithsdale, rows, django_assert_max_num_queries
):
    PersonFactory.create_batch(rows, locality=nithsdale)
    client.force_login(lead)
    with django_assert_max_num_queries(17):
        assert client.get("/register/").status_code == 200


@pytest.mark.parametrize("changes", [1, 30])
def test_person_page_runs_a_constant_number_of_queries(
    client, lead, person, changes, django_assert_max_num_queries
):
    from registers import services

    for version in range(1, changes + 1):
        services.update_person_details(
            lead, person, version=version, key_worker_name=f"Worker {version}"
        )
    client.force_login(lead)
    with django_assert_max_num_queries(19):
        assert client.get(f"/register/people/{person.pk}/").status_code == 200


def test_viewing_a_person_is_audited(client, viewer, person):
    client.force_login(viewer)
    client.get(f"/register/people/{person.pk}/")
    event = AuditEvent.objects.get(action="person.viewed")
    assert (event.actor, event.object_id, event.authority_id) == (
        viewer,
        str(person.pk),
        person.authority_id,
    )
    assert event.ip_address == "127.0.0.1"


def test_sign_in_with_a_wrong_password_is_explained(client, lead):
    response = client.post("/accounts/login/", {"username": lead.username, "password": "nope"})
    assert "did not match" in response.content.decode()
