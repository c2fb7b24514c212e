"""Moving a person to another locality of the authority."""

import pytest

from registers.codes import ChangeKind

pytestmark = pytest.mark.django_db


def test_moving_locality(client, lead, person, stewartry):
    client.force_login(lead)
    client.post(
        f"/register/people/{person.pk}/locality/",
        {"locality": stewartry.pk, "version": person.version},
    )
    person.refresh_from_db()
    assert person.locality == stewartry
    assert person.status_changes.filter(kind=ChangeKind.LOCALITY).exists()
    body = client.get(f"/register/people/{person.pk}/").content.decode()
    assert "Locality: Nithsdale to Stewartry" in body


def test_a_practitioner_cannot_move_someone_to_a_locality_they_do_not_have(
    client, practitioner, person, stewartry
):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/locality/",
        {"locality": stewartry.pk, "version": person.version},
    )
    assert "Select a valid choice" in response.content.decode()
    person.refresh_from_db()
    assert person.locality_id != stewartry.pk
