"""Two named doors through the append-only history and audit trail, for data protection only.

- `dsr_redact_audit_changes(ids, changes)`: retention and erasure replace identifying values in
  audit rows' `changes` with "[removed]". Only inside this function does a policy admit an UPDATE
  of audit rows (within the caller's scope), and the trigger admits it only when nothing but
  `changes` differs and the new value is a pure redaction of the old one (same keys, same shape,
  each value either unchanged or "[removed]"): who did what, when, to which object, stays.
- `dsr_erase_register_entry(person_id)`: the lead's erasure of an entry added in error deletes the
  person's reviews, history, unsubmitted snapshot rows, profile jobs and closed transfers, then the
  person. Only inside this function does the history trigger admit a DELETE. It refuses a person
  counted in a submitted or accepted return, or with a pending or accepted transfer. Row-level
  security still applies: it can only reach the caller's own authority.

Both are SECURITY DEFINER functions owned by the owner (which runs this migration); the runtime,
worker and system roles hold EXECUTE on them and still no UPDATE or DELETE on history and audit.
Inside them the owner is bound by row-level security like anyone: the tenant policies admit the
caller's authority; the audit door admits, besides, every row when the caller's session is in the
system scope (`role` = `dsr_system`, which only the worker role may become). The policies and
trigger exceptions that let the owner through name the function on the call stack and apply only
to the owner, so a statement of another role cannot borrow them.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION dsr_called_from(p_signature text) RETURNS boolean LANGUAGE plpgsql AS $$
-- True when the statement being checked runs inside the named PL/pgSQL function (a frame of the
-- call stack reads exactly "PL/pgSQL function <signature> line N at SQL statement").
DECLARE
    stack text;
BEGIN
    GET DIAGNOSTICS stack = PG_CONTEXT;
    RETURN position(E'\\nPL/pgSQL function ' || p_signature || ' line ' IN stack) > 0;
END $$;

CREATE FUNCTION dsr_is_redaction_of(p_new jsonb, p_old jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
-- True when p_new is p_old with some values (of any depth) replaced by the string "[removed]".
BEGIN
    IF p_new IS NOT DISTINCT FROM p_old OR p_new = '"[removed]"'::jsonb THEN
        RETURN true;
    END IF;
    IF jsonb_typeof(p_new) = 'object' AND jsonb_typeof(p_old) = 'object' THEN
        RETURN (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(p_new) AS k)
                IS NOT DISTINCT FROM (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(p_old) AS k)
            AND NOT EXISTS (
                SELECT 1 FROM jsonb_each(p_old) AS o
                WHERE NOT dsr_is_redaction_of(p_new -> o.key, o.value)
            );
    END IF;
    IF jsonb_typeof(p_new) = 'array' AND jsonb_typeof(p_old) = 'array' THEN
        RETURN jsonb_array_length(p_new) = jsonb_array_length(p_old)
            AND NOT EXISTS (
                SELECT 1 FROM generate_series(0, jsonb_array_length(p_old) - 1) AS i
                WHERE NOT dsr_is_redaction_of(p_new -> i, p_old -> i)
            );
    END IF;
    RETURN false;
END $$;

CREATE POLICY audit_redact_read ON registers_auditevent FOR SELECT TO CURRENT_USER
    USING (dsr_called_from('dsr_redact_audit_changes(bigint[],jsonb[])'));
CREATE POLICY audit_redact ON registers_auditevent FOR UPDATE TO CURRENT_USER
    USING (dsr_called_from('dsr_redact_audit_changes(bigint[],jsonb[])'))
    WITH CHECK (dsr_called_from('dsr_redact_audit_changes(bigint[],jsonb[])'));

CREATE OR REPLACE FUNCTION registers_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND dsr_called_from('dsr_redact_audit_changes(bigint[],jsonb[])')
       AND (to_jsonb(NEW) - 'changes') = (to_jsonb(OLD) - 'changes')
       AND dsr_is_redaction_of(NEW.changes, OLD.changes)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION dsr_redact_audit_changes(p_ids bigint[], p_changes jsonb[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    updated integer;
BEGIN
    UPDATE registers_auditevent AS e SET changes = r.changes FROM unnest(p_ids, p_changes) AS r(id, changes) WHERE e.id = r.id AND (current_setting('role') = 'dsr_system' OR e.authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
    GET DIAGNOSTICS updated = ROW_COUNT;
    RETURN updated;
END $$;

CREATE OR REPLACE FUNCTION registers_statuschange_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_user = 'dsr_system'
       AND (to_jsonb(NEW) - 'reason' - 'changes') = (to_jsonb(OLD) - 'reason' - 'changes')
    THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND dsr_called_from('dsr_erase_register_entry(bigint)') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION dsr_erase_register_entry(p_person_id bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_authority bigint;
    history integer;
BEGIN
    SELECT authority_id INTO v_authority FROM registers_person WHERE id = p_person_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no register entry % in this scope', p_person_id
            USING ERRCODE = 'no_data_found';
    END IF;
    IF EXISTS (
        SELECT 1 FROM reporting_snapshotrow AS r
        JOIN reporting_censussnapshot AS s ON s.id = r.snapshot_id
        JOIN reporting_authorityreturn AS a
            ON a.authority_id = s.authority_id AND a.census_date = s.census_date
        WHERE r.person_id = p_person_id AND a.status IN ('submitted', 'accepted')
    ) THEN
        RAISE EXCEPTION 'entry % is counted in a submitted return', p_person_id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM registers_transfer
        WHERE (person_id = p_person_id AND status IN ('pending', 'accepted'))
           OR new_person_id = p_person_id
    ) THEN
        RAISE EXCEPTION 'entry % has been transferred', p_person_id
            USING ERRCODE = 'restrict_violation';
    END IF;
    DELETE FROM registers_review WHERE person_id = p_person_id;
    DELETE FROM registers_statuschange WHERE person_id = p_person_id;
    GET DIAGNOSTICS history = ROW_COUNT;
    DELETE FROM reporting_snapshotrow WHERE person_id = p_person_id;
    DELETE FROM reporting_reportjob WHERE person_id = p_person_id;
    DELETE FROM registers_transfer WHERE person_id = p_person_id;
    DELETE FROM registers_person WHERE id = p_person_id;
    RETURN history;
END $$;

REVOKE ALL ON FUNCTION dsr_called_from(text), dsr_is_redaction_of(jsonb, jsonb),
    dsr_redact_audit_changes(bigint[], jsonb[]), dsr_erase_register_entry(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dsr_called_from(text), dsr_is_redaction_of(jsonb, jsonb),
    dsr_redact_audit_changes(bigint[], jsonb[]), dsr_erase_register_entry(bigint)
    TO dsr_app, dsr_worker, dsr_system;
"""

REVERSE = """
DROP FUNCTION IF EXISTS dsr_erase_register_entry(bigint);
CREATE OR REPLACE FUNCTION registers_statuschange_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_user = 'dsr_system'
       AND (to_jsonb(NEW) - 'reason' - 'changes') = (to_jsonb(OLD) - 'reason' - 'changes')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP FUNCTION IF EXISTS dsr_redact_audit_changes(bigint[], jsonb[]);
CREATE OR REPLACE FUNCTION registers_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP POLICY IF EXISTS audit_redact ON registers_auditevent;
DROP POLICY IF EXISTS audit_redact_read ON registers_auditevent;
DROP FUNCTION IF EXISTS dsr_is_redaction_of(jsonb, jsonb);
DROP FUNCTION IF EXISTS dsr_called_from(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0005_decided_transfer_hidden_from_receiver"),
        ("reporting", "0005_report_files_expire"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
