"""The change feed loses nothing while writers overlap: a long bulk upsert in flight while another
client edits and syncs, and (a property) writer transactions opened, committed and rolled back in
any order on their own connections while a syncer polls."""

import threading
import time
from collections import Counter

import psycopg
import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsr.seal import with_seals
from registers import services
from registers.models import PersonChange
from registers.services.changes import changes_after
from tests import db_roles
from tests.factories import PersonFactory

from .conftest import new_person

pytestmark = pytest.mark.django_db(transaction=True)

FEED = "/api/v1/changes/"
BULK = 500


def test_a_bulk_upsert_in_flight_is_not_skipped_by_a_client_syncing_past_it(
    cms, authority, lead, nithsdale, monkeypatch
):
    """The bulk's 500 rows take their positions first, then stay uncommitted while the other
    client's edits commit with later positions: a reader ordered by position alone (or by
    `updated_at`) would hand out the edits and move its watermark past all 500."""
    other = PersonFactory(locality=nithsdale)
    bulk_writing = threading.Event()
    bulk_done = threading.Event()
    real_bulk = services.bulk_upsert_people

    def slow_bulk(*args, **kwargs):
        stored = real_bulk(*args, **kwargs)
        bulk_writing.set()
        time.sleep(2.0)  # written, not yet committed: the request's transaction is still open
        return stored

    monkeypatch.setattr(services, "bulk_upsert_people", slow_bulk)
    body = {"people": [new_person(nithsdale, f"BULK-{i:04d}") for i in range(BULK)]}
    answers = []

    def bulk_client():
        try:
            answers.append(cms.post("/api/v1/people/bulk/", body, format="json"))
        finally:
            connections.close_all()
            bulk_done.set()

    from accounts.services import create_api_client

    from .conftest import client_with

    # Another system of the authority, with its own token.
    _, token = create_api_client(lead, authority, name="Housing", scopes=["read", "write"])
    syncer = client_with(token)
    writer = threading.Thread(target=bulk_client)
    writer.start()
    assert bulk_writing.wait(60)

    seen: list[dict] = []
    after = None
    edits_while_bulk_in_flight = 0
    edits = 0
    etag = syncer.get(f"/api/v1/people/{other.pk}/")["ETag"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        in_flight = not bulk_done.is_set()
        edited = syncer.patch(
            f"/api/v1/people/{other.pk}/",
            {"key_worker_name": f"Worker {edits}"},
            format="json",
            HTTP_IF_MATCH=etag,
        )
        assert edited.status_code == 200, edited.content
        etag = edited["ETag"]
        edits += 1
        edits_while_bulk_in_flight += in_flight
        page = syncer.get(FEED, {} if after is None else {"after": after}).json()
        seen += page["changes"]
        after = page["next"]
        created = Counter(c["reference"] for c in seen if c["kind"] == "created")
        changed = sum(c["kind"] == "changed" and c["person_id"] == other.pk for c in seen)
        bulk_seen = sum(created[f"BULK-{i:04d}"] for i in range(BULK))
        if bulk_done.is_set() and bulk_seen == BULK and changed == edits:
            break
        time.sleep(0.05)
    writer.join()

    assert answers[0].status_code == 200, answers[0].content
    assert edits_while_bulk_in_flight >= 1
    bulk_positions = PersonChange.objects.filter(
        person_id__in=[r["id"] for r in answers[0].json()["results"]]
    ).values_list("id", flat=True)
    edit_positions = PersonChange.objects.filter(person_id=other.pk, kind="changed").values_list(
        "id", flat=True
    )
    # The race happened: an edit took a later position than the bulk's while the bulk was open.
    assert min(bulk_positions) < max(edit_positions)
    references = Counter(c["reference"] for c in seen if c["kind"] == "created")
    assert all(references[f"BULK-{i:04d}"] == 1 for i in range(BULK))
    assert sum(c["kind"] == "changed" and c["person_id"] == other.pk for c in seen) == edits
    positions = [int(c["position"]) for c in seen]
    assert positions == sorted(set(positions))


# --- Property: writers in any order, a syncer polling -----------------------------------------

WRITERS = 3


def _connect_as_runtime(authority_id: int, user_id: int) -> psycopg.Connection:
    settings_dict = connection.settings_dict
    creds = db_roles.credentials("runtime")
    conn = psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        dbname=settings_dict["NAME"],
        user=creds["USER"],
        password=creds["PASSWORD"],
    )
    conn.scope = with_seals(
        {"dsr.scope": "user", "dsr.authorities": str(authority_id), "dsr.user_id": str(user_id)}
    )
    return conn


operations = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(0, WRITERS - 1), st.integers(0, 3)),
        st.tuples(st.just("commit"), st.integers(0, WRITERS - 1)),
        st.tuples(st.just("rollback"), st.integers(0, WRITERS - 1)),
        st.tuples(st.just("poll"), st.integers(1, 4)),
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture
def writers(authority, lead, nithsdale):
    # Each writer its own people: two open writers of one row would wait on each other's lock.
    people = [[PersonFactory(locality=nithsdale).pk for _ in range(4)] for _ in range(WRITERS)]
    conns = [_connect_as_runtime(authority.pk, lead.pk) for _ in range(WRITERS)]
    yield conns, people
    for conn in conns:
        conn.close()


def _drain(authority_id: int, after: int, limit: int, *, until=None, timeout: float = 10.0):
    """Follow the feed to its current end (and on until `until(seen)` holds)."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        page = changes_after(authority_id, after, limit=limit)
        seen += page.changes
        after = page.next
        if page.has_more:
            continue
        if until is None or until(seen) or time.monotonic() > deadline:
            return seen, after
        time.sleep(0.02)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_a_syncer_sees_every_committed_change_once_in_an_order_it_resumes_from(
    ops, writers, authority
):
    conns, people = writers
    _, after = _drain(authority.pk, 0, 100)
    start = after
    pending: dict[int, list[int]] = {w: [] for w in range(WRITERS)}
    committed: list[int] = []
    seen = []

    def poll(limit: int) -> None:
        nonlocal after
        more, after = _drain(authority.pk, after, limit)
        seen.extend(more)

    def end(w: int, *, commit: bool) -> None:
        conn = conns[w]
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            (conn.commit if commit else conn.rollback)()
        if commit:
            committed.extend(pending[w])
        pending[w] = []

    try:
        for op in ops:
            if op[0] == "write":
                _, w, p = op
                conn = conns[w]
                if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    for name, value in conn.scope.items():
                        conn.execute("SELECT set_config(%s, %s, true)", [name, value])
                conn.execute(
                    "UPDATE registers_person SET version = version + 1 WHERE id = %s",
                    [people[w][p]],
                )
                pending[w].append(people[w][p])
            elif op[0] in ("commit", "rollback"):
                end(op[1], commit=op[0] == "commit")
            else:
                poll(op[1])
    finally:
        for w in range(WRITERS):
            end(w, commit=True)

    expected = Counter(committed)

    def complete(so_far):
        return Counter(c.person_id for c in seen + so_far) == expected

    more, after = _drain(authority.pk, after, 3, until=complete)
    seen += more
    # Every committed change exactly once, nothing rolled back, positions strictly increasing
    # from where the syncer started: it can stop and resume from any of them.
    assert Counter(c.person_id for c in seen) == expected
    positions = [c.position for c in seen]
    assert positions == sorted(set(positions)) and all(p > start for p in positions)
    assert {c.kind for c in seen} <= {"changed"}


def test_a_writer_that_starts_after_a_change_does_not_hold_it_back(authority, nithsdale):
    """Only writers that may still take a lower position hold the feed: one that marks itself
    after a change committed leaves that change free to be handed out."""
    first = PersonFactory(locality=nithsdale)
    settings_dict = connection.settings_dict
    creds = db_roles.credentials("owner")
    writer = psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        dbname=settings_dict["NAME"],
        user=creds["USER"],
        password=creds["PASSWORD"],
    )
    try:
        with writer.cursor() as cursor:
            cursor.execute("SELECT dsr_change_feed_mark()")
        seen, _ = _drain(authority.pk, 0, 100)
        assert [c.person_id for c in seen] == [first.pk]
        second = PersonFactory(locality=nithsdale)  # after the mark: held until it ends
        seen, _ = _drain(authority.pk, 0, 100)
        assert second.pk not in [c.person_id for c in seen]
    finally:
        writer.rollback()
        writer.close()
    seen, _ = _drain(authority.pk, 0, 100, until=lambda s: len(s) == 2)
    assert [c.person_id for c in seen] == [first.pk, second.pk]
