"""Status changes: history with old and new values, hospital stays, a reason every time."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from registers import services
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def test_status_change_appends_history_with_old_and_new_values(practitioner, person):
    services.record_status_change(
        practitioner,
        person,
        version=person.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        risk_factors=["provider_notice", "carer_breakdown"],
        reason="Provider gave notice",
    )
    person.refresh_from_db()
    change = person.status_changes.get(kind="status")
    assert (change.old_category, change.new_category) == ("enhanced_monitoring", "urgent")
    assert (change.old_risk_rating, change.new_risk_rating) == ("green", "red")
    assert change.new_urgent_reason == "at_risk_of_breakdown"
    assert change.risk_factors == ["carer_breakdown", "provider_notice"]
    assert change.changed_by == practitioner
    assert person.version == 2
    assert person.next_review_due == TODAY + dt.timedelta(days=28)


def test_admission_to_hospital_records_the_stay_and_clears_the_risk_rating(practitioner, person):
    services.record_status_change(
        practitioner,
        person,
        version=1,
        category="urgent",
        urgent_reason="in_hospital",
        reason="Admitted after crisis",
        hospital_name="Midpark",
        hospital_type="mental_health_inpatient",
        admission_date=TODAY,
        legal_status="short_term_detention",
        hospital_in_area=True,
    )
    person.refresh_from_db()
    assert person.in_hospital and person.risk_rating is None
    assert person.status_changes.get(kind="status").state["hospital_name"] == "Midpark"


def test_discharge_clears_the_hospital_stay_but_history_keeps_it(practitioner, nithsdale):
    person = PersonFactory(locality=nithsdale, in_hospital=True)
    services.record_status_change(
        practitioner,
        person,
        version=1,
        category="enhanced_monitoring",
        risk_rating="amber",
        reason="Discharged home with new provider",
    )
    person.refresh_from_db()
    assert person.admission_date is None and person.hospital_name == ""
    change = person.status_changes.get()
    assert change.changes["admission_date"] == ["2024-02-01", None]


def test_status_change_needs_a_reason(practitioner, person):
    with pytest.raises(ValidationError) as caught:
        services.record_status_change(
            practitioner,
            person,
            version=1,
            category="enhanced_monitoring",
            risk_rating="amber",
            reason=" ",
        )
    assert "reason" in caught.value.message_dict
