"""Census snapshots rebuild the register as it stood on the census date, from the history."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, transaction

from dsr.bulk import insert_rows
from registers import access
from registers import services as registers
from reporting import services
from reporting.models import CensusSnapshot, SnapshotRow
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def add(lead, locality, ref, **fields):
    data = {
        "given_name": "Morag",
        "family_name": "Campbell",
        "date_of_birth": dt.date(1985, 3, 2),
        "sex": "female",
        "local_reference": ref,
        "category": "enhanced_monitoring",
        "risk_rating": "amber",
        "referral_source": "health",
        "date_added": dt.date(2025, 1, 10),
    }
    return registers.add_person(lead, locality=locality, **(data | fields))


def snapshot_of(authority, census):
    with access.using_scope(services.task_scope(authority.pk)):
        return services.take_snapshot(None, authority_id=authority.pk, census_date=census)


def test_a_person_whose_category_changed_after_the_census_date_keeps_the_category_they_had(
    lead, nithsdale, authority, census
):
    person = add(lead, nithsdale, "DG-1")
    registers.record_status_change(
        lead,
        person,
        version=person.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        reason="Provider gave notice",
        effective_date=dt.date(2025, 10, 2),
    )
    row = snapshot_of(authority, census).rows.get()
    assert (row.category, row.urgent_reason, row.risk_rating) == (
        "enhanced_monitoring",
        "",
        "amber",
    )
    person.refresh_from_db()
    assert person.category == "urgent"


def test_a_change_effective_before_the_census_date_is_in_the_snapshot(
    lead, nithsdale, authority, census
):
    person = add(lead, nithsdale, "DG-1")
    registers.record_status_change(
        lead,
        person,
        version=person.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        reason="Carer unwell",
        effective_date=dt.date(2025, 8, 1),
    )
    snapshot = snapshot_of(authority, census)
    assert snapshot.rows.get().urgent_reason == "at_risk_of_breakdown"
    assert snapshot.movement["moved_between_categories"] == 1


def test_people_who_left_on_or_before_the_census_date_or_joined_after_are_not_in_it(
    lead, nithsdale, authority, census
):
    stays = add(lead, nithsdale, "DG-1")
    left = add(lead, nithsdale, "DG-2")
    registers.remove_from_register(
        lead, left, version=left.version, date_left=census, leaving_reason="died"
    )
    add(lead, nithsdale, "DG-3", date_added=census + dt.timedelta(days=1))
    snapshot = snapshot_of(authority, census)
    assert list(snapshot.rows.values_list("person_id", flat=True)) == [stays.pk]
    assert snapshot.movement["left"] == {"died": 1}


def test_someone_who_left_after_the_census_date_is_counted_on_it(
    lead, nithsdale, authority, census
):
    person = add(lead, nithsdale, "DG-1")
    registers.remove_from_register(
        lead,
        person,
        version=person.version,
        date_left=census + dt.timedelta(days=1),
        leaving_reason="settled_in_community",
    )
    assert snapshot_of(authority, census).people == 1


def test_the_review_due_date_is_the_one_in_force_on_the_census_date(
    lead, nithsdale, authority, census
):
    person = add(lead, nithsdale, "DG-1", next_review_due=dt.date(2025, 9, 1))
    registers.schedule_review(lead, person, version=person.version, due=dt.date(2026, 12, 1))
    row = snapshot_of(authority, census).rows.get()
    assert row.next_review_due == dt.date(2025, 9, 1)


def test_taking_a_snapshot_twice_gives_the_same_rows_and_no_duplicates(
    known_register, authority, census
):
    first = list(snapshot_of(authority, census).rows.values_list("person_id", "category"))
    second = list(snapshot_of(authority, census).rows.values_list("person_id", "category"))
    assert first == second
    assert CensusSnapshot.objects.count() == 1
    assert SnapshotRow.objects.count() == len(first) == 11


def test_a_snapshot_cannot_be_taken_for_a_future_date_or_a_day_that_is_no_census(authority):
    with pytest.raises(ValidationError, match="not a census date"), transaction.atomic():
        snapshot_of(authority, dt.date(2025, 9, 24))
    with pytest.raises(ValidationError, match="not happened yet"), transaction.atomic():
        snapshot_of(authority, dt.date(2099, 12, 31))
    assert not CensusSnapshot.objects.exists()


def test_snapshots_are_invisible_to_the_national_analyst_and_other_authorities(
    known_register, authority, census, analyst, other_lead
):
    snapshot_of(authority, census)
    for user in (analyst, other_lead):
        with access.using_scope(access.scope_for(user)):
            assert not SnapshotRow.objects.exists()
            assert not CensusSnapshot.objects.exists()


def test_a_person_with_no_history_is_read_from_their_current_record(nithsdale, authority, census):
    due = dt.date(2025, 9, 1)
    person = PersonFactory(locality=nithsdale, in_hospital=True, next_review_due=due)
    row = snapshot_of(authority, census).rows.get()
    assert (row.person_id, row.local_reference, row.locality_id) == (
        person.pk,
        person.local_reference,
        nithsdale.pk,
    )
    assert (row.category, row.urgent_reason, row.hospital_type) == (
        "urgent",
        "in_hospital",
        person.hospital_type,
    )
    assert row.admission_date == dt.date(2024, 2, 1)
    assert row.next_review_due == due
    assert row.age == 35 and row.date_of_birth == dt.date(1990, 5, 17)


def test_a_snapshot_value_too_long_for_its_column_is_refused_not_cut_short(
    nithsdale, authority, census
):
    snapshot = snapshot_of(authority, census)
    person = PersonFactory(locality=nithsdale)
    row = {
        field.attname: "" if field.get_internal_type() == "CharField" else None
        for field in SnapshotRow._meta.concrete_fields
    }
    row |= {
        "authority_id": authority.pk,
        "snapshot_id": snapshot.pk,
        "person_id": person.pk,
        "local_reference": "X" * 51,
        "sex": "female",
        "date_of_birth": dt.date(1990, 5, 17),
        "age": 35,
        "category": "enhanced_monitoring",
        "date_added": dt.date(2024, 1, 10),
    }
    with access.using_scope(services.task_scope(authority.pk)):
        with pytest.raises(DataError), transaction.atomic():
            insert_rows(SnapshotRow, [row])
        assert insert_rows(SnapshotRow, [row | {"local_reference": "X" * 50}]) == 1
        assert snapshot.rows.get().local_reference == "X" * 50
