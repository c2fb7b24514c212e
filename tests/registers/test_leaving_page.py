"""Taking a person off the register."""

import datetime as dt

import pytest

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def test_leaving_asks_for_confirmation_before_removing(client, practitioner, person):
    client.force_login(practitioner)
    data = {
        "date_left": TODAY.strftime("%d/%m/%Y"),
        "leaving_reason": "settled_in_community",
        "version": person.version,
    }
    response = client.post(f"/register/people/{person.pk}/leave/", data)
    assert "Are you sure" in response.content.decode()
    person.refresh_from_db()
    assert person.date_left is None
    response = client.post(f"/register/people/{person.pk}/leave/", data | {"confirmed": "yes"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.leaving_reason == "settled_in_community"


def test_leaving_without_a_reason_is_refused(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/leave/",
        {"date_left": TODAY.strftime("%d/%m/%Y"), "version": person.version, "confirmed": "yes"},
    )
    assert "Choose why the person left the register." in response.content.decode()
    person.refresh_from_db()
    assert person.date_left is None
