"""The one door through the append-only audit trail: replacing identifying values in `changes`
with "[removed]" (retention and erasure), and nothing else, in the caller's scope only."""

import pytest
from django.db import DatabaseError, transaction

from registers import access
from registers.audit import record_event
from registers.data_protection import redact_audit_changes
from registers.models import AuditEvent
from tests.registers.test_audit_trail_immutability import raw, sqlstate_of

pytestmark = pytest.mark.django_db

CHANGES = {"given_name": ["Morag", "Mhairi"], "reason": "Mhairi's carer", "rows": [1, {"a": "x"}]}


@pytest.fixture
def event(authority, lead):
    record_event(lead, "person.details", authority_id=authority.pk, changes=CHANGES)
    return AuditEvent.objects.get(action="person.details")


def test_values_can_be_replaced_by_removed_and_who_did_what_when_stays(event):
    redacted = {
        "given_name": ["[removed]", "Mhairi"],
        "reason": "[removed]",
        "rows": [1, {"a": "[removed]"}],
    }
    assert redact_audit_changes([(event.pk, redacted)]) == 1
    after = AuditEvent.objects.get(pk=event.pk)
    assert after.changes == redacted
    assert (after.actor_id, after.action, after.at, after.object_id) == (
        event.actor_id,
        event.action,
        event.at,
        event.object_id,
    )


def test_a_whole_value_may_go_at_once(event):
    assert redact_audit_changes([(event.pk, {**CHANGES, "given_name": "[removed]"})]) == 1


@pytest.mark.parametrize(
    "forged",
    [
        {**CHANGES, "given_name": ["Someone", "Else"]},  # a new value
        {"reason": "[removed]"},  # a key dropped
        {**CHANGES, "extra": "[removed]"},  # a key added
        {**CHANGES, "rows": [1]},  # an array shortened
    ],
)
def test_anything_but_removal_is_refused(event, forged):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        redact_audit_changes([(event.pk, forged)])
    assert AuditEvent.objects.get(pk=event.pk).changes == CHANGES


def test_a_plain_update_is_refused_even_to_removed(event, lead):
    with access.using_scope(access.scope_for(lead)):
        state = sqlstate_of(
            "UPDATE registers_auditevent SET changes = '\"[removed]\"' WHERE id = %s", [event.pk]
        )
    assert state == "42501"  # the runtime role holds no UPDATE on the audit trail
    assert AuditEvent.objects.get(pk=event.pk).changes == CHANGES


def test_below_the_policy_the_trigger_refuses_a_plain_redaction_too(event):
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    with transaction.atomic():
        raw("SELECT set_config('role', 'none', true)")  # the owner, for this savepoint
        raw("ALTER TABLE registers_auditevent NO FORCE ROW LEVEL SECURITY")
        state = sqlstate_of(
            "UPDATE registers_auditevent SET changes = '\"[removed]\"' WHERE id = %s", [event.pk]
        )
        transaction.set_rollback(True)
    assert state == "42501"


def test_another_authority_cannot_redact_the_authoritys_audit_rows(event, other_lead):
    with access.using_scope(access.scope_for(other_lead)):
        assert redact_audit_changes([(event.pk, {**CHANGES, "reason": "[removed]"})]) == 0
    assert AuditEvent.objects.get(pk=event.pk).changes == CHANGES
