"""`dsr.bulk.update_rows` (one UPDATE from a JSON parameter) stores what `bulk_update` stores, and
only in the rows its queryset selects."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from dsr.bulk import update_rows
from registers.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

NAMES = [
    "key_worker_name",
    "preferred_name",
    "chi_number",
    "risk_factors",
    "planned_move_date",
    "guardianship_or_poa",
    "lead_professional_team",
    "version",
    "updated_at",
]


def _randomise(person: Person, rng: random.Random, now: dt.datetime) -> None:
    person.key_worker_name = rng.choice(["", "Iain", "Ma'iri \"K\" O'Neil", "Zoë\\n"])
    person.preferred_name = rng.choice(["", "Mo"])
    person.chi_number = rng.choice([None, "1403881234"])
    person.risk_factors = rng.sample(
        ["provider_notice", "carer_breakdown", "mental_health"], rng.randint(0, 3)
    )
    person.planned_move_date = rng.choice([None, dt.date(2027, rng.randint(1, 12), 1)])
    person.guardianship_or_poa = rng.choice([True, False])
    person.lead_professional_team = rng.choice(["", "North team", "Süd / 2"])
    person.version += rng.randint(1, 3)
    person.updated_at = now - dt.timedelta(microseconds=rng.randint(0, 10**9))


def _stored(pks, names):
    return list(Person.objects.filter(pk__in=pks).order_by("pk").values_list(*names))


@pytest.mark.parametrize("seed", range(5))
def test_update_rows_stores_what_bulk_update_stores(nithsdale, seed):
    rng = random.Random(seed)
    first = PersonFactory.create_batch(4, locality=nithsdale, chi_number=None)
    second = PersonFactory.create_batch(4, locality=nithsdale, chi_number=None)
    now = timezone.now()
    for a, b in zip(first, second, strict=True):
        state = rng.getstate()
        _randomise(a, rng, now)
        rng.setstate(state)
        _randomise(b, rng, now)
    names = rng.sample(NAMES, rng.randint(1, len(NAMES)))
    if any(p.chi_number for p in first):  # one open entry per CHI number: keep them apart
        names = [n for n in names if n != "chi_number"] or ["version"]
    assert Person.objects.bulk_update(first, names) == 4
    assert update_rows(Person.objects.all(), second, names) == 4
    assert _stored([p.pk for p in second], names) == _stored([p.pk for p in first], names)


def test_update_rows_leaves_rows_outside_its_queryset(nithsdale, stewartry):
    inside = PersonFactory(locality=nithsdale, chi_number=None)
    outside = PersonFactory(locality=stewartry, chi_number=None)
    for person in (inside, outside):
        person.key_worker_name = "Changed"
    stored = update_rows(
        Person.objects.filter(locality=nithsdale), [inside, outside], ["key_worker_name"]
    )
    assert stored == 1
    assert Person.objects.get(pk=inside.pk).key_worker_name == "Changed"
    assert Person.objects.get(pk=outside.pk).key_worker_name != "Changed"
