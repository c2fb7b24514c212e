"""Backups restore: `scripts/backup.sh` (make backup / make restore) dumps a seeded database in
custom format as the backup role, restores it as the owner into a new database, and the restored
database holds the same people, history, audit trail and census snapshot, with row-level security,
the roles' grants and the sealed scope's key as they were."""

import datetime as dt
import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from dsr import seal
from registers import access
from reporting import services as reporting
from tests import db_roles
from tests.factories import PersonFactory, long_gone

ROOT = Path(__file__).resolve().parent.parent
CENSUS = dt.date(2025, 9, 25)
COMPARED = [
    "registers_person",
    "registers_statuschange",
    "registers_review",
    "registers_auditevent",
    "reporting_censussnapshot",
    "reporting_snapshotrow",
    "dsr_scope_key",
]

pytestmark = pytest.mark.django_db(transaction=True)


def _url(role: str, database: str) -> str:
    return db_roles.url(role).rsplit("/", 1)[0] + "/" + database


def _backup_url(database: str) -> str:
    return _url("backup", database)


def _contents(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')), count(*) "
                f"FROM {table} t"
            ).fetchone()
            for table in COMPARED
        }


def _security(url: str) -> set[tuple]:
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity, relowner::regrole::text, "
            "coalesce(relacl, acldefault('r', relowner))::text FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        ).fetchall()
        policies = conn.execute(
            "SELECT tablename, policyname, roles::text, cmd, qual, with_check FROM pg_policies"
        ).fetchall()
    return set(tables) | set(policies)


def _script(*args: str, database: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": _url("runtime", database),
        "DATABASE_OWNER_URL": _url("owner", database),
        "DATABASE_BACKUP_URL": _backup_url(database),
    }
    done = subprocess.run(
        ["/bin/bash", str(ROOT / "scripts" / "backup.sh"), *args],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def seeded(lead, authority, nithsdale):
    long_gone(lead, nithsdale, left=dt.date(2025, 11, 1))
    PersonFactory.create_batch(4, locality=nithsdale)
    with access.using_scope(reporting.task_scope(authority.pk)):
        reporting.take_snapshot(None, authority_id=authority.pk, census_date=CENSUS)
    return authority


def test_a_backup_restores_the_register_history_audit_and_snapshots_with_security_intact(
    seeded, lead, tmp_path
):
    source = settings.DATABASES["default"]["NAME"]
    restored = f"{source}_restored_{uuid.uuid4().hex[:8]}"
    dump = _script("backup", str(tmp_path / "dsr.dump"), database=source)
    assert Path(dump).stat().st_size > 0
    assert _script("restore", dump, restored, database=source) == restored
    try:
        before, after = _contents(_backup_url(source)), _contents(_backup_url(restored))
        assert before == after
        assert before["registers_person"][1] == 5 and before["reporting_snapshotrow"][1] > 0
        assert before["registers_auditevent"][1] > 0 and before["dsr_scope_key"][1] == 1
        # Every table's row-level security, owner and grants, and every policy, as they were.
        assert _security(_backup_url(source)) == _security(_backup_url(restored))

        with psycopg.connect(_url("runtime", restored)) as app:
            # Outside any scope the runtime role sees nobody; history cannot be rewritten.
            assert app.execute("SELECT count(*) FROM registers_person").fetchone()[0] == 0
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute("UPDATE registers_statuschange SET reason = ''")
            app.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute("SELECT * FROM dsr_scope_key")
            app.rollback()
            # In the lead's sealed scope (the restored key is this secret key's) it sees them.
            values = seal.with_seals(access.scope_for(lead).db_settings())
            for name, value in values.items():
                app.execute("SELECT set_config(%s, %s, true)", [name, value])
            assert app.execute("SELECT count(*) FROM registers_person").fetchone()[0] == 5
    finally:
        with psycopg.connect(_url("owner", "postgres"), autocommit=True) as owner:
            owner.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
