"""Editing a person's details, and an edit that crosses someone else's."""

import pytest

from registers import services

pytestmark = pytest.mark.django_db


def details_data(person, **overrides):
    data = {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "date_of_birth": person.date_of_birth.strftime("%d/%m/%Y"),
        "sex": person.sex,
        "chi_number": person.chi_number,
        "local_reference": person.local_reference,
        "referral_source": person.referral_source,
        "version": person.version,
    }
    return data | overrides


def test_editing_details_saves_them(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/edit/", details_data(person, key_worker_name="Iain")
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.key_worker_name, person.version) == ("Iain", 2)


def test_a_concurrent_edit_is_detected_explained_and_not_overwritten(
    client, practitioner, lead, person
):
    stale = details_data(person, key_worker_name="Mine")
    services.update_person_details(lead, person, version=1, key_worker_name="Theirs")
    client.force_login(practitioner)
    response = client.post(f"/register/people/{person.pk}/edit/", stale)
    body = response.content.decode()
    person.refresh_from_db()
    assert person.key_worker_name == "Theirs"
    assert "Someone else changed this record" in body
    assert "Key worker name from blank to Theirs" in body
    # The form now carries the current version, so submitting again is a conscious choice.
    assert 'name="version" value="2"' in body


def test_editing_with_a_bad_date_of_birth_saves_nothing(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/edit/", details_data(person, date_of_birth="2090-01-01")
    )
    assert "cannot be in the future" in response.content.decode()
    person.refresh_from_db()
    assert person.version == 1
