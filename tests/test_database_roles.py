"""The database roles hold only what they need (docs/security.md, "Database roles").

Every table comes from the app registry, so a table added later is checked without editing this
file. The attack test logs in as the runtime role and as the worker role themselves (not through
the suite's owner connection) and runs statements an attacker with a raw query would try; each
must fail, or find nothing of another authority.
"""

import psycopg
import pytest
from django.apps import apps
from django.db import connection

from dsr.seal import seal, with_seals
from registers.models import Person
from tests import db_roles
from tests.factories import PersonFactory, make_member

DML = {"SELECT", "INSERT", "UPDATE", "DELETE"}
NEVER = {"TRUNCATE", "REFERENCES", "TRIGGER"}
ACTING_ROLES = ("dsr_app", "dsr_worker", "dsr_system")
# Tables that are not a model's: (privileges of the acting roles).
NOT_MODELS = {
    "django_migrations": {"SELECT"},
    "dsr_transaction_grant": set(),
    "dsr_scope_key": set(),
}
# Tables kept by the database as rows to add up (registers/0022): the web and worker roles append
# (through the person table's triggers) and read; only the cross-tenant role folds (deletes).
FOLDED = {
    "registers_registercount": {
        "dsr_app": {"SELECT", "INSERT"},
        "dsr_worker": {"SELECT", "INSERT"},
        "dsr_system": {"SELECT", "INSERT", "DELETE"},
    },
}


def expected_grants(table: str, role: str, append_only: set[str]) -> set[str]:
    if table in FOLDED:
        return FOLDED[table][role]
    return NOT_MODELS.get(table, DML - ({"UPDATE", "DELETE"} if table in append_only else set()))


def model_tables() -> set[str]:
    return {
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    }


def tenant_tables() -> list[str]:
    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if any(f.name == "authority" and f.concrete for f in m._meta.get_fields())
    )


def rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def rls_tables() -> list[str]:
    return [t for (t,) in rows("SELECT relname FROM pg_class WHERE relrowsecurity ORDER BY 1")]


def append_only_tables() -> set[str]:
    return {
        table
        for (table,) in rows(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = c.relname || '_no_update_or_delete'"
        )
    }


def privileges(role: str, table: str) -> set[str]:
    (held,) = rows(
        "SELECT array_remove(ARRAY["
        + ", ".join(
            f"CASE WHEN has_table_privilege(%s, %s, '{p}') THEN '{p}' END"
            for p in sorted(DML | NEVER)
        )
        + "], NULL)",
        [x for _ in sorted(DML | NEVER) for x in (role, table)],
    )[0]
    return set(held)


pytestmark = pytest.mark.django_db


def test_the_roles_are_ordinary_roles_and_only_the_worker_may_become_the_system_role():
    attributes = {
        name: tuple(flags)
        for name, *flags in rows(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolinherit, "
            "rolcanlogin FROM pg_roles WHERE rolname IN ('dsr_app', 'dsr_worker', 'dsr_system')"
        )
    }
    assert attributes == {
        "dsr_app": (False, False, False, False, False, True),
        "dsr_worker": (False, False, False, False, False, True),
        "dsr_system": (False, False, False, False, False, False),
    }
    memberships = set(
        rows(
            "SELECT m.rolname, r.rolname FROM pg_auth_members a JOIN pg_roles m ON m.oid = "
            "a.member JOIN pg_roles r ON r.oid = a.roleid WHERE m.rolname IN "
            "('dsr_app', 'dsr_worker', 'dsr_system')"
        )
    )
    assert memberships == {("dsr_worker", "dsr_system")}
    owners = {
        owner
        for (owner,) in rows(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        )
    }
    assert owners & set(ACTING_ROLES) == set()


def test_every_table_of_the_app_registry_has_exactly_the_grants_it_needs():
    append_only = append_only_tables()
    assert {"registers_statuschange", "registers_auditevent"} <= append_only
    tables = {t for (t,) in rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables - model_tables() == set(NOT_MODELS), "a table no model or this test knows"
    assert model_tables() <= tables
    wrong = {}
    for table in sorted(tables):
        for role in ACTING_ROLES:
            held, expected = privileges(role, table), expected_grants(table, role, append_only)
            if held != expected:
                wrong[(role, table)] = (sorted(held), sorted(expected))
    assert wrong == {}


def test_only_the_system_role_may_blank_the_free_text_of_history():
    columns = set(
        rows(
            "SELECT grantee, column_name FROM information_schema.column_privileges "
            "WHERE table_name = 'registers_statuschange' AND privilege_type = 'UPDATE' "
            "AND grantee IN ('dsr_app', 'dsr_worker', 'dsr_system')"
        )
    )
    assert columns == {("dsr_system", "reason"), ("dsr_system", "changes")}


# --- The attack test ---------------------------------------------------------------------------

ESCAPE_HATCHES = {
    "dsr.scope": "system",
    "dsr.allow_truncate": "on",
    "dsr.pseudonymise": "on",
    "dsr.api_token_hash": "anything",
}


# Roles each login role must not become (the worker may become dsr_system: that is its purpose).
MORE_PRIVILEGED = {
    "runtime": ("dsr_owner", "dsr_worker", "dsr_system"),
    "worker": ("dsr_owner", "dsr_app"),
}


def attacks(role: str) -> list[tuple[str, str]]:
    """(name, SQL) of every statement that must fail."""
    out = []
    for table in tenant_tables():
        out += [
            (
                f"un-force row-level security on {table}",
                f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            ),
            (
                f"disable row-level security on {table}",
                f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
            ),
            (f"drop a policy of {table}", f"DROP POLICY tenant_read ON {table}"),
            (f"create a policy on {table}", f"CREATE POLICY open ON {table} USING (true)"),
            (f"disable the triggers of {table}", f"ALTER TABLE {table} DISABLE TRIGGER ALL"),
            (f"truncate {table}", f"TRUNCATE {table} CASCADE"),
            (f"alter {table}", f"ALTER TABLE {table} ADD COLUMN forged integer"),
        ]
    for table in sorted(append_only_tables()):
        out += [
            (f"update {table}", f"UPDATE {table} SET id = id"),
            (f"delete from {table}", f"DELETE FROM {table}"),
        ]
    out += [
        (
            "create a SECURITY DEFINER function",
            "CREATE FUNCTION public.forged() RETURNS integer "
            "LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
        ),
        (
            "create a temporary SECURITY DEFINER function",
            "CREATE FUNCTION pg_temp.forged() RETURNS "
            "integer LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
        ),
        ("create a table", "CREATE TABLE forged (id integer)"),
    ]
    out += [(f"SET ROLE {other}", f"SET ROLE {other}") for other in MORE_PRIVILEGED[role]]
    return out


@pytest.fixture
def two_authorities(transactional_db, authority, other_authority, nithsdale, leith):
    """Committed rows of two authorities, as the attacker would find them."""
    lead = make_member(authority, "lead", email="lead@dg.example.scot")
    other = make_member(other_authority, "lead", email="lead@edinburgh.example.scot")
    PersonFactory(locality=nithsdale)
    PersonFactory(locality=leith)
    return lead, other


def _as(role: str) -> psycopg.Connection:
    settings_dict = connection.settings_dict
    creds = db_roles.credentials(role)
    return psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        dbname=settings_dict["NAME"],
        user=creds["USER"],
        password=creds["PASSWORD"],
    )


@pytest.mark.parametrize("role", ["runtime", "worker"])
def test_an_attacker_with_raw_sql_as_the_runtime_or_worker_role_gets_nowhere(role, two_authorities):
    lead, other = two_authorities
    a, b = lead.memberships.get().authority_id, other.memberships.get().authority_id
    assert Person.objects.filter(authority_id=b).exists()
    succeeded = []
    with _as(role) as conn:
        conn.autocommit = True
        (login,) = conn.execute("SELECT current_user").fetchone()
        assert login == db_roles.ROLES[role]
        # Every escape hatch set over authority A's own sealed scope: authority B stays out of
        # sight (the unsealed hatches are refused outright).
        own_scope = with_seals(
            {"dsr.scope": "user", "dsr.authorities": str(a), "dsr.user_id": str(lead.pk)}
        )
        for table in tenant_tables():
            try:
                with conn.transaction():
                    for name, value in {**own_scope, **ESCAPE_HATCHES}.items():
                        conn.execute("SELECT set_config(%s, %s, true)", [name, value])
                    (seen,) = conn.execute(
                        f"SELECT count(*) FROM {table} WHERE authority_id = %s", [b]
                    ).fetchone()
            except psycopg.errors.InsufficientPrivilege:
                continue
            if seen:
                succeeded.append(f"read {seen} rows of authority B in {table}")
        for name, sql in attacks(role):
            try:
                with conn.transaction():
                    conn.execute(sql)
                    raise _Succeeded
            except _Succeeded:
                succeeded.append(name)
            except psycopg.Error:
                pass
    assert succeeded == []


class _Succeeded(Exception):
    pass


def _forged_scopes(a: int, b: int, lead_b: int) -> list[dict[str, str]]:
    """Every dsr.* setting an attacker could write, aimed at B; seals guessed or copied."""
    forged = {
        "dsr.authorities": str(b),
        "dsr.user_id": str(lead_b),
        "dsr.api_token_hash": "0" * 64,
        "dsr.allow_truncate": "on",
        "dsr.pseudonymise": "on",
    }
    return [{**forged, "dsr.scope": mode} for mode in ("user", "national", "system")] + [
        # A seal guessed, and a seal the service made for A's list, replayed for B's.
        {**forged, "dsr.scope": "user", "dsr.seal_authorities": "0" * 64},
        {
            **forged,
            "dsr.authorities": f"{a},{b}",
            "dsr.seal_authorities": seal("authorities", str(a)),
        },
    ]


@pytest.mark.parametrize("role", ["runtime", "worker"])
def test_every_dsr_setting_forged_reads_no_row_of_another_authority(role, two_authorities):
    lead, other = two_authorities
    a, b = lead.memberships.get().authority_id, other.memberships.get().authority_id
    succeeded = []
    with _as(role) as conn:
        conn.autocommit = True
        for forged in _forged_scopes(a, b, other.pk):
            for table in rls_tables():
                try:
                    with conn.transaction():
                        for name, value in forged.items():
                            conn.execute("SELECT set_config(%s, %s, true)", [name, value])
                        (seen,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                except psycopg.errors.InsufficientPrivilege:
                    continue
                if seen:
                    succeeded.append(f"read {seen} rows of {table} with {forged}")
            # Nor may the one statement that binds a member's authorities be pointed at B's lead.
            try:
                with conn.transaction():
                    for name, value in forged.items():
                        conn.execute("SELECT set_config(%s, %s, true)", [name, value])
                    conn.execute("SELECT dsr_bind_member_authorities()")
                    succeeded.append(f"bound {forged['dsr.user_id']}'s authorities")
            except psycopg.errors.InsufficientPrivilege:
                pass
    assert succeeded == []


def test_the_services_own_sealed_scope_still_reads_its_own_authority(two_authorities):
    lead, other = two_authorities
    a, b = lead.memberships.get().authority_id, other.memberships.get().authority_id
    with _as("runtime") as conn, conn.transaction():
        for name, value in with_seals(
            {"dsr.scope": "user", "dsr.user_id": str(lead.pk), "dsr.authorities": ""}
        ).items():
            conn.execute("SELECT set_config(%s, %s, true)", [name, value])
        conn.execute("SELECT dsr_bind_member_authorities()")
        seen = dict(
            conn.execute(
                "SELECT authority_id, count(*) FROM registers_person GROUP BY authority_id"
            ).fetchall()
        )
    assert seen == {a: 1}
    assert b not in seen


def test_every_table_under_row_level_security_demands_a_sealed_scope():
    unsealed = {
        t
        for (t,) in rows(
            "SELECT c.relname FROM pg_class c WHERE c.relrowsecurity AND NOT EXISTS ("
            " SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname"
            " AND p.policyname = 'scope_sealed' AND p.permissive = 'RESTRICTIVE'"
            " AND p.roles = '{public}')"
        )
    }
    assert rls_tables() and unsealed == set()
