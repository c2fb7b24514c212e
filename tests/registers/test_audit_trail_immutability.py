"""Nobody changes the audit trail: not the application role, truncation or another authority."""

import pytest
from django.db import DatabaseError, connection, transaction

from registers import access
from registers.audit import record_event
from registers.models import AuditEvent

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
