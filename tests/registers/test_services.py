"""The register's services: each change is validated, versioned and appended to the history."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from registers import services
from registers.models import AuditEvent, Person, Review, StatusChange
from tests.factories import PersonFactory

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


def test_a_stale_version_is_refused_and_changes_nothing(practitioner, person):
    services.record_status_change(
        practitioner,
        person,
        version=1,
        category="enhanced_monitoring",
        risk_rating="amber",
        reason="Rising risk",
    )
    with pytest.raises(services.StaleVersion):
        services.record_status_change(
            practitioner,
            person,
            version=1,
            category="enhanced_monitoring",
            risk_rating="red",
            reason="Written from an old page",
        )
    person.refresh_from_db()
    assert person.risk_rating == "amber"
    assert person.version == 2
    assert person.status_changes.count() == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda actor, p: services.update_person_details(actor, p, version=1, key_worker_name="Sam"),
        lambda actor, p: services.schedule_review(actor, p, version=1, due=TODAY),
        lambda actor, p: services.remove_from_register(
            actor, p, version=1, date_left=TODAY, leaving_reason="died"
        ),
    ],
    ids=["update_details", "schedule_review", "remove"],
)
def test_every_change_refuses_a_stale_version(practitioner, person, call):
    Person.objects.filter(pk=person.pk).update(version=2)
    with pytest.raises(services.StaleVersion):
        call(practitioner, person)
    assert not person.status_changes.exists()


def test_updating_details_records_what_changed(practitioner, person):
    services.update_person_details(
        practitioner, person, version=1, key_worker_name="Sam Reid", preferred_name="Mo"
    )
    change = person.status_changes.get()
    assert change.kind == "details"
    assert change.changes["key_worker_name"] == ["", "Sam Reid"]
    assert change.changes["preferred_name"] == ["", "Mo"]


def test_details_update_cannot_change_the_register_status(practitioner, person):
    with pytest.raises(ValidationError):
        services.update_person_details(practitioner, person, version=1, category="urgent")


def test_recording_a_review_sets_the_next_review_and_history(practitioner, person):
    review = services.record_review(
        practitioner,
        person,
        version=1,
        review_date=TODAY,
        attendees="Key worker, sister",
        outcome="Stable",
        next_review_due=TODAY + dt.timedelta(days=60),
    )
    person.refresh_from_db()
    assert Review.objects.get() == review
    assert person.next_review_due == TODAY + dt.timedelta(days=60)
    assert person.status_changes.get().kind == "review_recorded"


def test_a_review_needs_attendees_an_outcome_and_a_later_next_date(practitioner, person):
    with pytest.raises(ValidationError) as caught:
        services.record_review(
            practitioner,
            person,
            version=1,
            review_date=TODAY,
            attendees="",
            outcome="",
            next_review_due=TODAY,
        )
    assert set(caught.value.message_dict) == {"attendees", "outcome", "next_review_due"}
    assert not Review.objects.exists()


def test_scheduling_a_review_in_the_past_is_refused(practitioner, person):
    with pytest.raises(ValidationError):
        services.schedule_review(practitioner, person, version=1, due=TODAY - dt.timedelta(days=1))


def test_moving_locality_needs_write_access_to_the_new_locality(
    practitioner, person, stewartry, lead
):
    with pytest.raises(Exception, match="No such locality"):
        services.move_locality(practitioner, person, version=1, locality=stewartry)
    services.move_locality(lead, person, version=1, locality=stewartry, reason="Moved house")
    person.refresh_from_db()
    assert person.locality == stewartry
    assert person.status_changes.get().kind == "locality"


def test_moving_to_another_authoritys_locality_is_refused(lead, person, leith):
    with pytest.raises(ValidationError):
        services.move_locality(lead, person, version=1, locality=leith)


def test_leaving_the_register_needs_a_reason_and_closes_the_record(practitioner, person):
    with pytest.raises(ValidationError):
        services.remove_from_register(
            practitioner, person, version=1, date_left=TODAY, leaving_reason="bored"
        )
    services.remove_from_register(
        practitioner,
        person,
        version=1,
        date_left=TODAY,
        leaving_reason="settled_in_community",
        note="Settled well",
    )
    person.refresh_from_db()
    assert person.date_left == TODAY and person.leaving_reason == "settled_in_community"
    with pytest.raises(ValidationError, match="left the register"):
        services.update_person_details(practitioner, person, version=2, key_worker_name="X")


def test_history_rows_cannot_be_rewritten(practitioner, person):
    services.update_person_details(practitioner, person, version=1, key_worker_name="Sam")
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StatusChange.objects.update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StatusChange.objects.all().delete()


def test_changes_cannot_be_slotted_in_before_the_last_recorded_change(practitioner, person):
    services.record_status_change(
        practitioner,
        person,
        version=1,
        category="enhanced_monitoring",
        risk_rating="amber",
        reason="Rising risk",
    )
    earlier = TODAY - dt.timedelta(days=3)
    with pytest.raises(ValidationError) as caught:
        services.record_status_change(
            practitioner,
            person,
            version=2,
            effective_date=earlier,
            category="enhanced_monitoring",
            risk_rating="red",
            reason="Late entry",
        )
    assert "last recorded change" in caught.value.message_dict["effective_date"][0]
    with pytest.raises(ValidationError) as caught:
        services.remove_from_register(
            practitioner, person, version=2, date_left=earlier, leaving_reason="died"
        )
    assert "last recorded change" in caught.value.message_dict["date_left"][0]
