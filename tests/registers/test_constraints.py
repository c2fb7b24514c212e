"""The database itself refuses records that break the register's rules, whatever the caller."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from registers.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def refused(**changes) -> bool:
    """True when the database refuses to store a valid person changed by `changes`."""
    person = PersonFactory()
    try:
        with transaction.atomic():
            Person.objects.filter(pk=person.pk).update(**changes)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize(
    ("description", "changes"),
    [
        ("urgent without a reason", {"category": "urgent"}),
        ("a reason without urgent", {"urgent_reason": "at_risk_of_breakdown"}),
        ("unknown category", {"category": "critical"}),
        ("unknown sex", {"sex": "x"}),
        (
            "in hospital without a stay",
            {"category": "urgent", "urgent_reason": "in_hospital", "risk_rating": None},
        ),
        ("a hospital stay when not in hospital", {"admission_date": dt.date(2024, 1, 1)}),
        ("no risk rating outside hospital", {"risk_rating": None}),
        (
            "at risk rated green",
            {"category": "urgent", "urgent_reason": "at_risk_of_breakdown", "risk_rating": "green"},
        ),
        ("unknown risk factor", {"risk_factors": ["bad_weather"]}),
        ("appropriate out of area without a placement", {"category": "appropriate_out_of_area"}),
        ("a placement when not out of area", {"host_area": "england"}),
        ("left without a reason", {"date_left": dt.date(2024, 6, 1)}),
        ("a leaving reason without a date", {"leaving_reason": "died"}),
        ("left before added", {"date_left": dt.date(2020, 1, 1), "leaving_reason": "died"}),
        ("a CHI number that is not ten digits", {"chi_number": "12345"}),
        ("version zero", {"version": 0}),
        ("info-sharing date without the basis", {"info_sharing_date": dt.date(2024, 1, 1)}),
    ],
)
def test_database_refuses_bad_combinations(description, changes):
    assert refused(**changes), description


def test_ready_for_discharge_before_admission_is_refused():
    person = PersonFactory(in_hospital=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(ready_for_discharge_date=dt.date(2020, 1, 1))


def test_delay_reason_needs_a_ready_for_discharge_date():
    person = PersonFactory(in_hospital=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(delay_reason="funding")


def test_delayed_discharge_with_a_stay_and_ready_date_is_stored():
    person = PersonFactory(
        in_hospital=True, ready_for_discharge_date=dt.date(2024, 3, 1), delay_reason="funding"
    )
    assert person.is_delayed_discharge(dt.date(2024, 4, 1))


def test_appropriate_placement_must_have_been_chosen():
    person = PersonFactory(appropriate_out_of_area=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(placement_chosen=False)


def test_inappropriate_placement_must_not_have_been_chosen():
    person = PersonFactory(inappropriate_out_of_area=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(placement_chosen=True)


def test_local_reference_is_unique_within_an_authority(nithsdale, leith):
    PersonFactory(locality=nithsdale, local_reference="DG-1")
    PersonFactory(locality=leith, local_reference="DG-1")  # another authority: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(locality=nithsdale, local_reference="DG-1")


def test_one_open_entry_per_chi_number_within_an_authority(nithsdale):
    first = PersonFactory(locality=nithsdale)
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(locality=nithsdale, chi_number=first.chi_number)


def test_a_chi_number_may_return_after_the_earlier_entry_closed(nithsdale):
    first = PersonFactory(locality=nithsdale)
    Person.objects.filter(pk=first.pk).update(
        date_left=dt.date(2024, 6, 1), leaving_reason="settled_in_community"
    )
    PersonFactory(locality=nithsdale, chi_number=first.chi_number)
