"""The register's counts kept by the database (`RegisterCount`, registers/0022).

The property: whatever writes the people (one row or many, inserts, category changes, locality
moves, leavings, erasure, folding at any point, in any scope), the counts read from the kept rows
equal the people counted one by one, for a lead, for a practitioner who sees one locality and for
another authority; and the rows themselves add up to the people in every bucket.
"""

import datetime as dt
import importlib
import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registers import access, selectors, services
from registers.models import Person, RegisterCount
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

BUCKET = ("authority_id", "locality_id", "category", "urgent_reason")
# Valid whole statuses (the check constraints tie the fields together), as one UPDATE sets them.
STATUSES = [
    {"category": "enhanced_monitoring", "urgent_reason": None, "risk_rating": "green"},
    {"category": "enhanced_monitoring", "urgent_reason": None, "risk_rating": "amber"},
    {"category": "urgent", "urgent_reason": "at_risk_of_breakdown", "risk_rating": "red"},
    {"category": "urgent", "urgent_reason": "at_risk_of_breakdown", "risk_rating": "amber"},
]
TRAITS = [{}, {"at_risk": True}, {"in_hospital": True}, {"appropriate_out_of_area": True}]
# The people whom one of STATUSES fits as it is (no hospital stay or placement to clear).
RATED = Person.objects.filter(
    Q(category="enhanced_monitoring") | Q(urgent_reason="at_risk_of_breakdown")
)


def slow_counts(user, authority_id: int) -> dict[str, int]:
    """The counts as the register list counted them before: every person in scope, one by one."""
    with access.using_scope(access.scope_for(user)):
        people = access.visible_people(user).on_register().filter(authority_id=authority_id)
        return {k: v for k, v in selectors.counts_by_category(people).items() if v}


def kept_counts(user, authority_id: int) -> dict[str, int]:
    with access.using_scope(access.scope_for(user)):
        counts = selectors.category_counts(user, authority_id=authority_id)
        return {k: v for k, v in counts.items() if v}


def buckets_kept() -> dict[tuple, int]:
    sums: dict[tuple, int] = {}
    for *key, n in RegisterCount.objects.values_list(*BUCKET, "n"):
        sums[tuple(key)] = sums.get(tuple(key), 0) + n
    return {key: n for key, n in sums.items() if n}


def buckets_counted() -> dict[tuple, int]:
    counted: dict[tuple, int] = {}
    for key in Person.objects.filter(date_left__isnull=True).values_list(*BUCKET):
        counted[key] = counted.get(key, 0) + 1
    return counted


operation = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 2), st.sampled_from(range(len(TRAITS)))),
    st.tuples(st.just("add_many"), st.integers(0, 2), st.integers(1, 4)),
    st.tuples(st.just("status"), st.integers(0, 30), st.sampled_from(range(len(STATUSES)))),
    st.tuples(st.just("status_all"), st.integers(0, 2), st.sampled_from(range(len(STATUSES)))),
    st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 1)),
    st.tuples(st.just("leave"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("erase"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("fold"), st.just(0), st.just(0)),
)


@pytest.fixture
def world(authority, other_authority, nithsdale, stewartry, leith, lead, other_lead, practitioner):
    return {
        "localities": [nithsdale, stewartry, leith],
        "lead": lead,
        "other_lead": other_lead,
        "practitioner": practitioner,  # sees Nithsdale only
    }


def _lead_of(world, person: Person):
    return world["other_lead"] if person.locality == world["localities"][2] else world["lead"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=14))
def test_the_kept_counts_equal_the_people_counted_after_any_writes(world, operations):
    localities = world["localities"]
    with transaction.atomic():
        people = [PersonFactory(locality=localities[i % 3]) for i in range(3)]
        for kind, index, value in operations:
            live = [p for p in people if p.pk is not None]
            person = live[index % len(live)] if live else None
            if kind == "add":
                people.append(PersonFactory(locality=localities[index], **TRAITS[value]))
            elif kind == "add_many":
                people += PersonFactory.create_batch(value, locality=localities[index])
            elif person is None or kind == "fold":
                services.compact_register_counts()
            elif kind == "status":
                # One row, as the runtime role in the lead's scope, as a request writes.
                with access.using_scope(access.scope_for(_lead_of(world, person))):
                    RATED.filter(pk=person.pk).update(**STATUSES[value])
            elif kind == "status_all":
                # Many rows in one statement, as a bulk upsert writes.
                RATED.filter(locality=localities[index]).update(**STATUSES[value])
            elif kind == "move":
                target = localities[value] if person.locality != localities[2] else localities[2]
                Person.objects.filter(pk=person.pk).update(locality=target)
                person.locality = target
            elif kind == "leave":
                Person.objects.filter(pk=person.pk, date_left__isnull=True).update(
                    date_left=dt.date.today(), leaving_reason="other"
                )
            else:
                with (
                    access.using_scope(access.scope_for(_lead_of(world, person))),
                    connection.cursor() as cursor,
                ):
                    cursor.execute("SELECT dsr_erase_register_entry(%s)", [person.pk])
                person.pk = None
        authority_id, other_id = localities[0].authority_id, localities[2].authority_id
        for user, where in (
            (world["lead"], authority_id),
            (world["practitioner"], authority_id),
            (world["other_lead"], other_id),
        ):
            assert kept_counts(user, where) == slow_counts(user, where)
        assert buckets_kept() == buckets_counted()
        transaction.set_rollback(True)


def test_a_rating_or_name_change_appends_no_count(lead, nithsdale):
    person = PersonFactory(locality=nithsdale)
    rows = RegisterCount.objects.count()
    with access.using_scope(access.scope_for(lead)):
        Person.objects.filter(pk=person.pk).update(risk_rating="amber", given_name="Morag")
    assert RegisterCount.objects.count() == rows


def test_folding_leaves_one_row_a_bucket_and_the_same_counts(lead, nithsdale, stewartry):
    people = [
        *PersonFactory.create_batch(3, locality=nithsdale),
        PersonFactory(locality=stewartry, at_risk=True),
    ]
    Person.objects.filter(pk=people[0].pk).update(locality=stewartry)
    Person.objects.filter(pk=people[1].pk).update(date_left=dt.date.today(), leaving_reason="died")
    before = buckets_kept()

    rows, left = services.compact_register_counts()

    assert rows > left == RegisterCount.objects.count() == len(before)
    assert buckets_kept() == before == buckets_counted()


def test_a_transfer_counts_out_of_the_sender_and_into_the_receiver(
    lead, other_lead, nithsdale, leith
):
    person = PersonFactory(locality=nithsdale)
    transfer = services.request_transfer(
        lead, person, version=person.version, to_authority=leith.authority, reason="Moving home"
    )
    # The receiver's scope closes the sender's entry: its count is the sender's authority's.
    with access.using_scope(access.scope_for(other_lead)):
        services.accept_transfer(other_lead, transfer, locality=leith, local_reference="ED-1")
    assert kept_counts(lead, nithsdale.authority_id) == slow_counts(lead, nithsdale.authority_id)
    assert kept_counts(other_lead, leith.authority_id) == {"enhanced_monitoring": 1}
    assert buckets_kept() == buckets_counted()


def test_a_scope_reads_only_its_own_authoritys_counts(lead, other_lead, nithsdale, leith):
    PersonFactory.create_batch(2, locality=nithsdale)
    PersonFactory(locality=leith)
    with access.using_scope(access.scope_for(other_lead)):
        # Row-level security, whatever the query asks for.
        assert set(RegisterCount.objects.values_list("authority_id", flat=True)) == {
            leith.authority_id
        }
    assert kept_counts(other_lead, nithsdale.authority_id) == {}


def test_the_web_role_cannot_rewrite_or_delete_a_count(lead, nithsdale):
    PersonFactory(locality=nithsdale)
    for statement in (
        "UPDATE registers_registercount SET n = n + 1",
        "DELETE FROM registers_registercount",
    ):
        with (
            pytest.raises(Exception, match="permission denied"),
            transaction.atomic(),
            access.using_scope(access.scope_for(lead)),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert buckets_kept() == buckets_counted()


def test_the_migration_counts_the_people_there_are(nithsdale, stewartry):
    migration = importlib.import_module("registers.migrations.0022_register_counts")
    PersonFactory.create_batch(3, locality=nithsdale)
    PersonFactory(locality=stewartry, in_hospital=True)
    kept = buckets_kept()
    with access.system_scope("test: rebuild the counts"):
        RegisterCount.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)
    assert buckets_kept() == kept == buckets_counted()


@pytest.mark.django_db(transaction=True)
def test_folding_while_a_writer_is_open_loses_no_count(lead, nithsdale):
    """A write that commits after the fold began is kept for the next fold, not lost or doubled:
    the writer does not wait for the fold, nor the fold for the writer."""
    PersonFactory.create_batch(2, locality=nithsdale)
    written, release = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic(), access.using_scope(access.scope_for(lead)):
                PersonFactory(locality=nithsdale, at_risk=True)
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(10)
    services.compact_register_counts()  # does not wait on the open writer
    release.set()
    thread.join(10)
    assert buckets_kept() == buckets_counted()
    services.compact_register_counts()
    assert buckets_kept() == buckets_counted()
    assert RegisterCount.objects.count() == 2


def test_the_scheduled_task_folds_the_counts_on_the_heavy_queue(nithsdale, stewartry, settings):
    from dsr.celery import route_task
    from registers import tasks

    person = PersonFactory(locality=nithsdale)
    Person.objects.filter(pk=person.pk).update(locality=stewartry)
    before = buckets_kept()

    assert tasks.compact_register_counts() > 0
    assert RegisterCount.objects.count() == len(before) == 1
    assert buckets_kept() == before
    assert "compact-register-counts" in {
        name
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] == "registers.tasks.compact_register_counts"
    }
    route = route_task("registers.tasks.compact_register_counts", (), {}, {})
    assert route == {"queue": settings.DSR_QUEUE_HEAVY}
