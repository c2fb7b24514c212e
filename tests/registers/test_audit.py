"""The audit trail: what is recorded, that nobody can change it, and the lead's audit log."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from accounts import services as staff
from registers import access, services
from registers.audit import record_event
from registers.models import AuditEvent
from tests.factories import PersonFactory, make_member

pytestmark = pytest.mark.django_db


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def sqlstate_of(sql, params=()):
    try:
        with transaction.atomic():
            raw(sql, params)
    except DatabaseError as exc:
        return exc.__cause__.sqlstate
    return None


@pytest.fixture
def event(authority, lead):
    record_event(lead, "test.event", authority_id=authority.pk, changes={"a": 1})
    return AuditEvent.objects.get(action="test.event")


# --- Immutability ---------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["lead", "system"])
def test_the_application_role_cannot_update_or_delete_audit_rows(event, lead, scope):
    chosen = access.scope_for(lead) if scope == "lead" else access.SYSTEM
    with access.using_scope(chosen):
        assert raw("SELECT count(*) FROM registers_auditevent WHERE id = %s", [event.pk]) == [(1,)]
        updated = sqlstate_of(
            "UPDATE registers_auditevent SET action = 'forged' WHERE id = %s", [event.pk]
        )
        deleted = sqlstate_of("DELETE FROM registers_auditevent WHERE id = %s", [event.pk])
    assert (updated, deleted) == ("42501", "42501")  # neither role holds UPDATE or DELETE
    event.refresh_from_db()
    assert event.action == "test.event"


def test_the_application_role_cannot_truncate_the_audit_trail(event):
    raw("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE and ALTER wait for no deferred checks
    assert sqlstate_of("TRUNCATE registers_auditevent CASCADE") == "42501"
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_trigger_refuses_changes_even_where_no_policy_applies(event):
    """Below the policy, the trigger: with row-level security lifted for the table's owner (in a
    savepoint, rolled back), UPDATE and DELETE are still refused."""
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    with transaction.atomic():
        raw("SELECT set_config('role', 'none', true)")  # the owner, for this savepoint
        raw("ALTER TABLE registers_auditevent NO FORCE ROW LEVEL SECURITY")
        update = sqlstate_of(
            "UPDATE registers_auditevent SET action = 'x' WHERE id = %s", [event.pk]
        )
        delete = sqlstate_of("DELETE FROM registers_auditevent WHERE id = %s", [event.pk])
        transaction.set_rollback(True)
    assert (update, delete) == ("42501", "42501")
    event.refresh_from_db()
    assert event.action == "test.event"


def test_an_authority_cannot_read_or_forge_another_authoritys_audit_rows(
    event, other_lead, other_authority, authority
):
    with access.using_scope(access.scope_for(other_lead)):
        assert raw("SELECT count(*) FROM registers_auditevent WHERE id = %s", [event.pk]) == [(0,)]
        forged = sqlstate_of(
            "INSERT INTO registers_auditevent (authority_id, actor_label, action, object_type,"
            " object_id, changes, at) VALUES (%s, 'x', 'forged', '', '', '{}', now())",
            [authority.pk],
        )
    assert forged == "42501"


# --- What is recorded -----------------------------------------------------------------------


def test_every_change_to_a_person_is_audited_with_what_changed(lead, person, authority):
    person = services.update_person_details(
        lead, person, version=person.version, key_worker_name="Sam Key"
    )
    person = services.record_status_change(
        lead,
        person,
        version=person.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        reason="Provider gave notice",
        effective_date=dt.date.today(),
    )
    services.remove_from_register(
        lead,
        person,
        version=person.version,
        date_left=dt.date.today(),
        leaving_reason="settled_in_community",
    )
    events = AuditEvent.objects.filter(object_type="person", object_id=str(person.pk))
    actions = list(events.order_by("id").values_list("action", flat=True))
    assert actions == ["person.details", "person.status", "person.left"]
    details = events.get(action="person.details")
    assert details.authority_id == authority.pk and details.actor == lead
    assert "key_worker_name" in str(details.changes)


def test_grants_and_revocations_are_audited(lead, authority, nithsdale, stewartry):
    member = make_member(authority, "practitioner", [nithsdale], email="new@dg.example.scot")
    membership = member.memberships.get()
    staff.grant_locality(lead, membership, stewartry)
    staff.revoke_locality(lead, membership, nithsdale)
    actions = list(
        AuditEvent.objects.filter(authority=authority)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["staff.locality_granted", "staff.locality_revoked"]


def test_viewing_a_person_page_is_audited_with_the_address(client, practitioner, person):
    client.force_login(practitioner)
    client.get(f"/register/people/{person.pk}/", REMOTE_ADDR="192.0.2.44")
    event = AuditEvent.objects.get(action="person.viewed")
    assert (event.actor, event.object_id, event.authority_id, event.ip_address) == (
        practitioner,
        str(person.pk),
        person.authority_id,
        "192.0.2.44",
    )


def test_opening_the_profile_page_is_audited(client, practitioner, person):
    client.force_login(practitioner)
    assert client.get(f"/reporting/people/{person.pk}/profile/").status_code == 200
    assert AuditEvent.objects.filter(
        action="person.profile_viewed", object_id=str(person.pk), actor=practitioner
    ).exists()


def test_an_out_of_scope_person_page_records_no_read(client, practitioner, other_person):
    client.force_login(practitioner)
    assert client.get(f"/register/people/{other_person.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action="person.viewed").exists()


def test_opening_the_sending_record_of_a_transfer_is_audited_with_its_actor(
    lead, other_lead, person, authority
):
    transfer = services.request_transfer(
        lead,
        person,
        version=person.version,
        to_authority=other_lead.memberships.get().authority,
        reason="Moving to family",
    )
    action = "transfer.sending_record_opened"
    before = AuditEvent.objects.filter(action=action).count()
    other_locality = other_lead.memberships.get().authority.localities.create(name="Leith")
    services.accept_transfer(other_lead, transfer, locality=other_locality, local_reference="EDI-1")
    uses = AuditEvent.objects.filter(action=action).order_by("-id")
    assert uses.count() == before + 1
    assert uses[0].actor == other_lead
    assert uses[0].changes == {"transfer": transfer.pk}


# --- The lead's audit log -------------------------------------------------------------------


def test_the_audit_log_shows_the_authoritys_events_and_not_anothers(
    client, lead, other_lead, person, other_person
):
    record_event(other_lead, "person.viewed", obj=other_person)
    client.force_login(lead)
    client.get(f"/register/people/{person.pk}/")
    page = client.get("/register/audit/").content.decode()
    assert f"person {person.pk}" in page
    assert f"person {other_person.pk}" not in page
    assert other_lead.email not in page


@pytest.mark.parametrize("who", ["practitioner", "viewer"])
def test_only_the_lead_may_open_the_audit_log(client, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/register/audit/").status_code == 403


def test_the_national_analyst_gets_404_for_the_audit_log(client, analyst):
    client.force_login(analyst)
    assert client.get("/register/audit/").status_code == 404


def test_the_audit_log_filters_by_who_what_person_and_dates(
    client, lead, practitioner, nithsdale, authority
):
    first = PersonFactory(locality=nithsdale, local_reference="REF-A")
    second = PersonFactory(locality=nithsdale, local_reference="REF-B")
    record_event(practitioner, "person.viewed", obj=first)
    record_event(lead, "person.viewed", obj=second)
    record_event(lead, "staff.removed", authority_id=authority.pk)
    client.force_login(lead)

    def shown(query):
        page = client.get("/register/audit/", query).context["page"]
        return {(e.action, e.object_id) for e in page.object_list if e.action != "login"}

    assert shown({"actor": "prac@"}) == {("person.viewed", str(first.pk))}
    assert shown({"action": "staff."}) == {("staff.removed", "")}
    assert shown({"person": "ref-b"}) == {("person.viewed", str(second.pk))}
    today = dt.date.today()
    assert shown({"date_to": (today - dt.timedelta(days=1)).strftime("%d/%m/%Y")}) == set()
    assert ("person.viewed", str(first.pk)) in shown({"date_from": today.strftime("%d/%m/%Y")})


def test_a_bad_date_in_the_audit_filters_is_explained(client, lead):
    client.force_login(lead)
    response = client.get("/register/audit/", {"date_from": "31/02/2025"})
    assert response.status_code == 200
    assert response.context["form"].errors["date_from"]
    assert "<title>Error:" in response.content.decode()


@pytest.mark.parametrize("events", [5, 150])
def test_the_audit_log_runs_a_constant_number_of_queries(
    client, lead, authority, events, django_assert_max_num_queries, settings
):
    for n in range(events):
        record_event(lead, "test.event", authority_id=authority.pk, changes={"n": n})
    client.force_login(lead)
    with django_assert_max_num_queries(15):
        response = client.get("/register/audit/", {"action": "person.", "page": "1"})
        assert response.status_code == 200
    with django_assert_max_num_queries(15):
        response = client.get("/register/audit/")
    assert len(response.context["page"].object_list) == min(events + 1, settings.DSR_PAGE_SIZE)


# --- Who has viewed a record ----------------------------------------------------------------


def test_the_person_page_lists_who_has_viewed_the_record(client, lead, practitioner, person):
    client.force_login(practitioner)
    client.get(f"/register/people/{person.pk}/")
    client.force_login(lead)
    page = client.get(f"/register/people/{person.pk}/").content.decode()
    assert f'hx-get="/register/people/{person.pk}/viewers/"' in page
    viewers = client.get(f"/register/people/{person.pk}/viewers/", HTTP_HX_REQUEST="true")
    html = viewers.content.decode()
    assert practitioner.email in html and lead.email in html
    assert "<html" not in html  # the fragment for htmx
    assert "Who has viewed" in client.get(f"/register/people/{person.pk}/viewers/").content.decode()


def test_viewers_of_a_record_cannot_see_who_else_read_it(client, viewer, person):
    client.force_login(viewer)
    assert "Who has viewed" not in client.get(f"/register/people/{person.pk}/").content.decode()
    assert client.get(f"/register/people/{person.pk}/viewers/").status_code == 403


def test_who_has_viewed_is_404_outside_the_scope(client, practitioner, other_person):
    client.force_login(practitioner)
    assert client.get(f"/register/people/{other_person.pk}/viewers/").status_code == 404
