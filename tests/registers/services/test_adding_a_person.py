"""Adding a person: who added them and why, the checks on identity, age and the stay."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from registers import services
from registers.models import AuditEvent, Person, StatusChange

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def new_person_fields(**overrides):
    fields = {
        "given_name": "Morag",
        "family_name": "Campbell",
        "date_of_birth": dt.date(1985, 3, 2),
        "sex": "female",
        "local_reference": "DG-0001",
        "category": "enhanced_monitoring",
        "risk_rating": "amber",
        "referral_source": "health",
    }
    return fields | overrides


def test_adding_a_person_records_who_added_them_and_why(lead, nithsdale):
    person = services.add_person(
        lead, locality=nithsdale, reason="Referred by CLDT", **new_person_fields()
    )
    change = person.status_changes.get()
    assert change.kind == "added"
    assert change.changed_by == lead
    assert change.new_category == "enhanced_monitoring"
    assert change.reason == "Referred by CLDT"
    assert change.state["category"] == "enhanced_monitoring"
    assert person.version == 1
    assert person.next_review_due == TODAY + dt.timedelta(days=91)
    assert AuditEvent.objects.filter(action="person.added", object_id=str(person.pk)).exists()


def test_adding_a_person_in_hospital_needs_the_hospital_stay(lead, nithsdale):
    with pytest.raises(ValidationError) as caught:
        services.add_person(
            lead,
            locality=nithsdale,
            **new_person_fields(category="urgent", urgent_reason="in_hospital", risk_rating=None),
        )
    assert {"hospital_name", "hospital_type", "admission_date", "legal_status"} <= set(
        caught.value.message_dict
    )
    assert not Person.objects.exists()


def test_adding_a_person_with_a_bad_chi_number_saves_nothing(lead, nithsdale):
    with pytest.raises(ValidationError) as caught:
        services.add_person(lead, locality=nithsdale, **new_person_fields(chi_number="0203851230"))
    assert "chi_number" in caught.value.message_dict
    assert not Person.objects.exists()
    assert not StatusChange.objects.exists()


def test_adding_a_duplicate_local_reference_is_explained(lead, nithsdale):
    services.add_person(lead, locality=nithsdale, **new_person_fields())
    with pytest.raises(ValidationError) as caught:
        services.add_person(lead, locality=nithsdale, **new_person_fields(given_name="Other"))
    assert "already has this local reference" in caught.value.message_dict["local_reference"][0]


def test_children_cannot_be_added_and_16_year_olds_are_flagged_in_transition(lead, nithsdale):
    with pytest.raises(ValidationError):
        services.add_person(
            lead,
            locality=nithsdale,
            **new_person_fields(date_of_birth=TODAY.replace(year=TODAY.year - 15)),
        )
    teen = services.add_person(
        lead,
        locality=nithsdale,
        **new_person_fields(
            date_of_birth=TODAY.replace(year=TODAY.year - 17) - dt.timedelta(days=1)
        ),
    )
    assert teen.in_transition
