"""A tenant scope the database verifies: settings that any statement could set are not trusted.

The policies read the scope from transaction-local settings (`dsr.authorities`, `dsr.user_id`,
`dsr.scope`, `dsr.api_token_hash`). Any statement may set a setting, so on their own they would let
one raw query of the runtime role claim another authority. From here on each of them counts only
beside its seal, `dsr.seal_<name>`: a keyed hash of the name, the value and the day, made with a
key that the service derives from its secret key (dsr/seal.py) and that the database keeps in a
table only the owner can read (`dsr_scope_key`, written after every migrate by
`dsr.seal.store_key`). SQL can read a seal the service made for the request it
serves, never make one for another value.

`dsr_scope_sealed()` (SECURITY DEFINER, so it may read the key) raises when a scope setting is set
without its seal; a RESTRICTIVE policy on every table under row-level security calls it, for every
role, so the SECURITY DEFINER steps (which read tables under the owner's policies) are covered too.
The member's authorities, which the service reads in the same statement that binds them, are bound
and sealed by `dsr_bind_member_authorities()` from the sealed user id.
"""

from django.db import migrations

TABLES = (
    "accounts_apiclient",
    "accounts_localityuserobjectpermission",
    "accounts_membership",
    "registers_auditevent",
    "registers_importbatch",
    "registers_locality",
    "registers_person",
    "registers_review",
    "registers_sentreminder",
    "registers_statuschange",
    "registers_transfer",
    "reporting_authorityreturn",
    "reporting_censussnapshot",
    "reporting_reportjob",
    "reporting_snapshotrow",
)

FUNCTIONS = """
CREATE TABLE dsr_scope_key (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    key bytea NOT NULL
);
REVOKE ALL ON dsr_scope_key FROM PUBLIC, dsr_app, dsr_worker, dsr_system;

-- Nested keyed hash (no length extension): sha256(k || sha256(k || "name=value@day")).
CREATE FUNCTION dsr_seal(p_key bytea, p_name text, p_value text, p_day date) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT encode(sha256(p_key || sha256(p_key || convert_to(
        p_name || '=' || p_value || '@' || to_char(p_day, 'YYYY-MM-DD'), 'UTF8'))), 'hex')
$$;

-- A seal holds on the day it was made and the days either side (the service's clock and the
-- transaction's start may straddle midnight); a seal copied out of a request is worthless after.
CREATE FUNCTION dsr_scope_sealed() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    k bytea;
    setting text;
    v text;
    seal text;
    today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    FOREACH setting IN ARRAY ARRAY['scope', 'user_id', 'authorities', 'api_token_hash'] LOOP
        v := coalesce(current_setting('dsr.' || setting, true), '');
        CONTINUE WHEN v = '';
        IF k IS NULL THEN
            SELECT key INTO k FROM dsr_scope_key;
            IF k IS NULL THEN
                RAISE EXCEPTION 'no scope key: run migrate as the owner role'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        END IF;
        seal := coalesce(current_setting('dsr.seal_' || setting, true), '');
        CONTINUE WHEN seal = dsr_seal(k, setting, v, today)
            OR seal = dsr_seal(k, setting, v, today - 1)
            OR seal = dsr_seal(k, setting, v, today + 1);
        RAISE EXCEPTION 'the scope setting dsr.% was not set by the service', setting
            USING ERRCODE = 'insufficient_privilege';
    END LOOP;
    RETURN true;
END $$;

-- Binds the transaction to the authorities the (sealed) user is an active member of, sealed.
CREATE FUNCTION dsr_bind_member_authorities() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    member text := coalesce(current_setting('dsr.user_id', true), '');
    bound text;
BEGIN
    IF member = '' OR NOT dsr_scope_sealed() THEN
        RAISE EXCEPTION 'no user in scope' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT coalesce(string_agg(authority_id::text, ',' ORDER BY authority_id), '') INTO bound
    FROM accounts_membership WHERE user_id = member::bigint AND deactivated_at IS NULL;
    PERFORM set_config('dsr.authorities', bound, true),
        set_config('dsr.seal_authorities', CASE WHEN bound = '' THEN '' ELSE dsr_seal(
            (SELECT key FROM dsr_scope_key), 'authorities', bound,
            (now() AT TIME ZONE 'UTC')::date) END, true);
END $$;

REVOKE ALL ON FUNCTION dsr_seal(bytea, text, text, date), dsr_scope_sealed(),
    dsr_bind_member_authorities() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dsr_scope_sealed(), dsr_bind_member_authorities()
    TO dsr_app, dsr_worker, dsr_system;
"""

REVERSE_FUNCTIONS = """
DROP FUNCTION dsr_bind_member_authorities();
DROP FUNCTION dsr_scope_sealed();
DROP FUNCTION dsr_seal(bytea, text, text, date);
DROP TABLE dsr_scope_key;
"""

POLICIES = "\n".join(
    f"CREATE POLICY scope_sealed ON {table} AS RESTRICTIVE FOR ALL "
    "USING ((SELECT dsr_scope_sealed())) WITH CHECK ((SELECT dsr_scope_sealed()));"
    for table in TABLES
)
REVERSE_POLICIES = "\n".join(f"DROP POLICY scope_sealed ON {table};" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0009_sent_reminders"),
        ("accounts", "0007_email_digests"),
        ("reporting", "0006_snapshot_row_chi_mismatch"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, REVERSE_FUNCTIONS),
        migrations.RunSQL(POLICIES, REVERSE_POLICIES),
    ]
