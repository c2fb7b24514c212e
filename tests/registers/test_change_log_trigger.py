"""The change feed's log trigger on the person table (registers/0014, 0021): a row per person an
update changed, none for one it left as it was, in linear time whatever plan the connection has
cached for it."""

import pytest
from django.db import connection, transaction

from registers.models import Person, PersonChange
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

# Big enough that a nested loop over old and new rows (LARGE squared comparisons: 16 million)
# does not finish inside the limit below; the linear joins take a fraction of it.
LARGE = 4000
LIMIT = "3s"


def _logged(people: list[Person]) -> list[tuple[int, str]]:
    return list(
        PersonChange.objects.filter(person_id__in=[p.pk for p in people])
        .order_by("id")
        .values_list("person_id", "kind")
    )


def _copies(person: Person, count: int):
    """`count` copies of `person` with references of their own (a factory is slow at thousands)."""
    fields = {
        f.attname: getattr(person, f.attname)
        for f in Person._meta.concrete_fields
        if not (f.primary_key or f.generated)
    }
    for n in range(count):
        yield Person(**{**fields, "local_reference": f"{person.local_reference}-{n}"})


def test_an_update_that_changes_nothing_is_not_logged_and_each_change_is():
    person = PersonFactory(key_worker_name="Ewan Bell", risk_factors=[])
    people = Person.objects.filter(pk=person.pk)
    before = _logged([person])

    people.update(key_worker_name="Ewan Bell", risk_factors=[])
    assert _logged([person]) == before

    people.update(key_worker_name="Ailsa Reid")
    people.update(risk_factors=["carer_breakdown"])
    people.update(risk_factors=["carer_breakdown"])
    people.update(next_review_due=None)
    assert _logged([person]) == [*before, *[(person.pk, "changed")] * 3]


def test_a_large_update_after_one_row_updates_is_logged_in_linear_time():
    first = PersonFactory(chi_number=None)
    people = [first, *Person.objects.bulk_create(_copies(first, LARGE - 1))]
    # One-row updates first, on the same connection, as a web process makes them: PL/pgSQL
    # plans the trigger's statement for one row and keeps that plan.
    for person in people[:8]:
        Person.objects.filter(pk=person.pk).update(key_worker_name=f"Worker {person.pk}")

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [LIMIT])
        updated = Person.objects.filter(pk__in=[p.pk for p in people]).update(
            key_worker_name="Ailsa Reid"
        )

    assert updated == LARGE
    assert (
        PersonChange.objects.filter(person_id__in=[p.pk for p in people], kind="changed").count()
        == LARGE + 8
    )
