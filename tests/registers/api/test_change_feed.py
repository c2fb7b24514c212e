"""The change feed (GET /api/v1/changes/): every write path to a person emits, in order, for its
own authority only; positions are opaque and checked.

The feed hands out a change once every transaction that began writing before it has ended, so
these tests commit (transactional_db): inside one test transaction nothing would ever show."""

import time

import pytest
from django.utils import timezone

from registers import access, data_protection, localities, services
from registers.audit import AuditAction
from registers.models import AuditEvent, Person, PersonChange
from tests.factories import PersonFactory, added_through_services, long_gone

from .conftest import new_person

pytestmark = pytest.mark.django_db(transaction=True)

FEED = "/api/v1/changes/"


def read_feed(api, after: str | None = None, *, limit: int | None = None):
    """Every change after `after` visible now, following `next` while `has_more`."""
    seen = []
    while True:
        params = {} if after is None else {"after": after}
        if limit:
            params["limit"] = limit
        answer = api.get(FEED, params)
        assert answer.status_code == 200, answer.content
        page = answer.json()
        seen += page["changes"]
        after = page["next"]
        if not page["has_more"]:
            return seen, after


def feed_until(api, wanted, after: str | None = None, *, timeout: float = 20.0):
    """Poll until `wanted(changes)` holds: a change shows once every transaction of the database
    cluster that began writing before it has ended (another test's, say), normally at once."""
    changes: list = []
    deadline = time.monotonic() + timeout
    while True:
        more, after = read_feed(api, after)
        changes += more
        if wanted(changes) or time.monotonic() > deadline:
            return changes, after
        time.sleep(0.05)


def kinds(changes, person_id):
    return [c["kind"] for c in changes if c["person_id"] == person_id]


def test_every_write_path_to_a_person_emits_its_kind_in_order(
    cms, lead, authority, nithsdale, stewartry
):
    added = cms.post("/api/v1/people/", new_person(nithsdale), format="json").json()
    pk = added["id"]
    person = Person.objects.get(pk=pk)
    patched = cms.patch(
        f"/api/v1/people/{pk}/",
        {"key_worker_name": "Ewan Bell"},
        format="json",
        HTTP_IF_MATCH=f'"{person.version}"',
    )
    assert patched.status_code == 200
    localities.move_people(lead, from_locality=nithsdale, to_locality=stewartry, reason="Boundary")
    person.refresh_from_db()
    services.remove_from_register(
        lead,
        pk,
        version=person.version,
        date_left=timezone.localdate(),
        leaving_reason="no_longer_meets_criteria",
    )

    changes, _ = feed_until(cms, lambda c: len(kinds(c, pk)) >= 4)

    assert kinds(changes, pk) == ["created", "changed", "changed", "left"]
    assert {c["reference"] for c in changes} == {"CMS-0001"}
    positions = [int(c["position"]) for c in changes]
    assert positions == sorted(set(positions))
    assert set(changes[0]) == {"position", "kind", "person_id", "reference", "occurred_at"}


def test_a_transfer_is_out_for_the_sender_and_in_for_the_receiver(
    cms, other_cms, lead, other_lead, person, other_authority, leith
):
    transfer = services.request_transfer(
        lead, person, version=person.version, to_authority=other_authority, reason="Moving"
    )
    with access.using_scope(access.scope_for(other_lead)):
        new = services.accept_transfer(other_lead, transfer, locality=leith, local_reference="ED-1")

    sent, _ = feed_until(cms, lambda c: "transferred_out" in kinds(c, person.pk))
    received, _ = feed_until(other_cms, lambda c: kinds(c, new.pk))

    # The sender's entry closes; the receiver's new entry opens, under its own id and reference.
    assert kinds(sent, person.pk) == ["created", "transferred_out"]
    assert [(c["kind"], c["person_id"], c["reference"]) for c in received] == [
        ("transferred_in", new.pk, "ED-1")
    ]


def test_pseudonymisation_gives_the_new_reference_under_the_same_id(cms, lead, nithsdale):
    person = long_gone(lead, nithsdale, ref="OLD-7")

    data_protection.pseudonymise_leavers()

    changes, _ = feed_until(cms, lambda c: "pseudonymised" in kinds(c, person.pk))
    assert kinds(changes, person.pk)[0] == "created"
    assert kinds(changes, person.pk)[-2:] == ["left", "pseudonymised"]
    # The reference a change shows is the person's reference now: the old one is nowhere.
    assert {c["reference"] for c in changes} == {f"PSEUDONYMISED-{person.pk}"}


def test_an_erased_entry_shows_as_erased_with_no_reference_left(cms, lead, nithsdale):
    person = added_through_services(lead, nithsdale, local_reference="ERR-1")
    data_protection.erase_entry(lead, person, version=person.version, reason="Duplicate")

    changes, _ = feed_until(cms, lambda c: "erased" in kinds(c, person.pk))

    assert [(c["kind"], c["reference"]) for c in changes if c["person_id"] == person.pk] == [
        ("created", None),
        ("erased", None),
    ]


def test_another_authoritys_changes_never_show_and_its_positions_give_nothing(
    cms, other_cms, nithsdale, leith
):
    ours = PersonFactory(locality=nithsdale)
    theirs = PersonFactory(locality=leith)
    mine, _ = feed_until(cms, lambda c: kinds(c, ours.pk))
    other, other_next = feed_until(other_cms, lambda c: kinds(c, theirs.pk))

    assert theirs.pk not in {c["person_id"] for c in mine}
    assert ours.pk not in {c["person_id"] for c in other}
    # A position copied from the other authority's feed reads nothing of theirs.
    assert PersonChange.objects.filter(person_id=theirs.pk).exists()
    for position in [c["position"] for c in other] + [other_next]:
        seen, _ = read_feed(cms, position)
        assert theirs.pk not in {c["person_id"] for c in seen}


def test_a_quiet_feed_answers_empty_with_a_position_to_resume_from(cms, nithsdale):
    PersonFactory(locality=nithsdale)
    _, after = feed_until(cms, lambda c: len(c) == 1)

    page = cms.get(FEED, {"after": after}).json()

    assert page["changes"] == [] and page["has_more"] is False
    assert int(page["next"]) >= int(after)


def test_pages_follow_on_without_gaps_or_repeats(cms, nithsdale):
    people = [PersonFactory(locality=nithsdale).pk for _ in range(7)]
    changes, _ = feed_until(cms, lambda c: len(c) >= 7)
    paged, _ = read_feed(cms, limit=2)
    assert [c["person_id"] for c in changes] == people
    assert paged == changes


@pytest.mark.parametrize(
    "after",
    ["nonsense", "-1", "007", "1.5", "١٢", str(2**63), "12 "],
)
def test_a_position_the_feed_did_not_hand_out_is_refused_with_a_problem(cms, after):
    answer = cms.get(FEED, {"after": after})
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    assert "after" in answer.json()["errors"]


@pytest.mark.parametrize("limit", ["0", "1001", "ten"])
def test_a_limit_out_of_range_is_refused(cms, limit):
    answer = cms.get(FEED, {"limit": limit})
    assert answer.status_code == 400
    assert "limit" in answer.json()["errors"]


def test_the_feed_needs_an_api_clients_token(client, lead):
    from .conftest import client_with

    assert client_with(None).get(FEED).status_code == 401
    assert client_with("dsr_not-a-token").get(FEED).status_code == 401
    client.force_login(lead)  # a signed-in member is not an API client
    assert client.get(FEED).status_code in (401, 403)


def test_reading_the_feed_is_audited(cms, authority):
    cms.get(FEED)
    event = AuditEvent.objects.filter(action=AuditAction.API_CALL).latest("at")
    assert event.authority_id == authority.pk
    assert event.changes["path"] == FEED and event.changes["status"] == 200


@pytest.mark.parametrize("people", [3, 150])
def test_the_feed_runs_a_constant_number_of_queries(
    cms, nithsdale, people, django_assert_max_num_queries
):
    for _ in range(people):
        PersonFactory(locality=nithsdale)
    feed_until(cms, lambda c: len(c) >= people)
    with django_assert_max_num_queries(15):
        page = cms.get(FEED, {"limit": 1000}).json()
    assert len(page["changes"]) == people
