"""PostgreSQL itself keeps authorities apart, whatever query the application sends."""

import pytest
from django.db import DatabaseError, connection, transaction

from registers import access
from registers.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def test_the_application_role_is_bound_by_row_level_security():
    ((is_super, bypass),) = raw(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert not is_super and not bypass


def test_raw_sql_in_authority_a_scope_sees_none_of_authority_b(lead, person, other_person):
    with access.using_scope(access.scope_for(lead)):
        ids = {row[0] for row in raw("SELECT id FROM registers_person")}
        history = raw(
            "SELECT count(*) FROM registers_statuschange WHERE authority_id = %s",
            [other_person.authority_id],
        )
    assert ids == {person.pk}
    assert history == [(0,)]


def test_raw_sql_in_authority_a_scope_cannot_update_or_delete_authority_b(lead, other_person):
    with access.using_scope(access.scope_for(lead)):
        updated = raw(
            "UPDATE registers_person SET family_name = 'X' WHERE id = %s", [other_person.pk]
        )
        deleted = raw("DELETE FROM registers_person WHERE id = %s", [other_person.pk])
    assert (updated, deleted) == (0, 0)
    other_person.refresh_from_db()
    assert other_person.family_name != "X"


def test_rows_cannot_be_written_into_another_authority(lead, person, other_authority):
    with (
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        access.using_scope(access.scope_for(lead)),
    ):
        raw(
            "UPDATE registers_person SET authority_id = %s WHERE id = %s",
            [other_authority.pk, person.pk],
        )


def test_no_scope_sees_nothing(person):
    with access.using_scope(access.NO_ACCESS):
        assert raw("SELECT count(*) FROM registers_person") == [(0,)]
        assert not Person.objects.exists()


def test_national_scope_reads_no_person_rows(analyst, person):
    with access.using_scope(access.scope_for(analyst)):
        assert raw("SELECT count(*) FROM registers_person") == [(0,)]


def test_every_tenant_table_has_forced_row_level_security():
    """Any model with an `authority` column must be under the policy; new ones included."""
    from django.apps import apps

    tables = {
        m._meta.db_table
        for m in apps.get_models()
        if any(f.name == "authority" for f in m._meta.get_fields())
    }
    assert "registers_person" in tables
    rows = raw(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
        [list(tables)],
    )
    unprotected = sorted(name for name, enabled, forced in rows if not (enabled and forced))
    assert unprotected == []
    assert len(rows) == len(tables)


def test_system_scope_is_audited(person):
    from registers.models import AuditEvent

    with access.system_scope("test reason"):
        assert Person.objects.filter(pk=person.pk).exists()
    event = AuditEvent.objects.get(action="system_scope")
    assert event.changes == {"reason": "test reason"}


def test_people_created_in_the_system_scope_belong_to_their_authority(nithsdale):
    person = PersonFactory(locality=nithsdale)
    assert person.authority_id == nithsdale.authority_id
