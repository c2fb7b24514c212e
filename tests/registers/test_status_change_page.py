"""The full status form."""

import datetime as dt

import pytest

from registers.models import StatusChange

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def test_the_full_status_form_records_a_hospital_admission(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/status/",
        {
            "status": "urgent:in_hospital",
            "hospital_name": "Carseview",
            "hospital_type": "ld_inpatient",
            "admission_date": TODAY.strftime("%d/%m/%Y"),
            "legal_status": "short_term_detention",
            "reason": "Admitted after crisis",
            "version": person.version,
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.urgent_reason, person.risk_rating) == ("in_hospital", None)


def test_a_status_change_without_a_reason_is_refused(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/status/",
        {"status": "enhanced_monitoring", "risk_rating": "red", "version": person.version},
    )
    assert "Say why the status changed." in response.content.decode()
    assert StatusChange.objects.filter(person=person).count() == 0
