"""PostgreSQL itself keeps authorities apart, whatever query the application sends."""

import datetime as dt

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


def test_every_policy_reads_the_scope_once_per_query_not_once_per_row():
    """Each dsr.* setting sits in a scalar subquery (an InitPlan): read per row, the policy cost
    more than the query itself on large scans (bench/README.md, "Found and fixed")."""
    policies = raw(
        "SELECT tablename, policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') "
        "FROM pg_policies WHERE schemaname = current_schema()"
    )
    assert policies
    for table, name, text in policies:
        assert "current_setting(" not in _outside_subqueries(text), (
            f"{table}.{name} reads a setting per row: {text}"
        )


def _outside_subqueries(text: str) -> str:
    """`text` with every parenthesised scalar subquery `( SELECT ... )` removed."""
    while (start := text.find("( SELECT ")) != -1:
        depth = 0
        for end in range(start, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        text = text[:start] + text[end + 1 :]
    return text


def test_no_migration_of_the_project_calls_the_policy_helpers():
    """A migration that ran must do the same when it runs again on a new database: the project's
    migrations have their SQL written into them, and dsr/rls.py serves new tables only."""
    from pathlib import Path

    from django.conf import settings

    for app in ("accounts", "registers", "reporting"):
        for migration in sorted((Path(settings.BASE_DIR) / app / "migrations").glob("0*.py")):
            text = migration.read_text()
            assert "dsr.rls" not in text and "from dsr import rls" not in text, migration


@pytest.mark.parametrize(
    ("existing", "options"),
    [
        ("registers_person", {}),
        ("accounts_membership", {"own_user_rows": True}),
        ("registers_transfer", {"shared_with": ("to_authority_id",)}),
    ],
)
def test_the_helper_gives_a_new_table_the_policy_the_migrations_wrote(existing, options):
    from dsr.rls import tenant_policy_sql

    def policies(table):
        return dict(
            raw(
                "SELECT policyname, coalesce(qual, '') || ' | ' || coalesce(with_check, '') "
                "FROM pg_policies WHERE tablename = %s "
                "AND (policyname LIKE 'tenant_%%' OR policyname = 'scope_sealed')",
                [table],
            )
        )

    forward, _reverse = tenant_policy_sql("rls_probe", **options)
    with transaction.atomic():
        raw("SELECT set_config('role', 'none', true)")  # the owner, for this savepoint
        raw(
            "CREATE TABLE rls_probe (id bigint, authority_id bigint, to_authority_id bigint, "
            "user_id bigint)"
        )
        raw(forward)
        assert policies("rls_probe") == policies(existing) != {}
        assert raw(
            "SELECT roles FROM pg_policies WHERE tablename = 'rls_probe' AND policyname = "
            "'system_all'"
        ) == [(["dsr_system"],)]
        transaction.set_rollback(True)


# --- Every tenant table, discovered from the app registry -------------------------------------
#
# For each model with an `authority` column (tables other changes add are picked up by
# themselves), rows of authority B are made in the system scope, then, inside authority A's
# scope, raw SQL must not read, update or delete them, nor move A's row into B, nor insert a row
# into B, nor TRUNCATE the table. A model the generic builder cannot make a row of needs an entry
# in SAMPLES (the test says so).

from django.apps import apps  # noqa: E402
from django.db import models as dj_models  # noqa: E402

from tests.factories import LocalityFactory, make_member  # noqa: E402

INSUFFICIENT_PRIVILEGE = "42501"  # both row-level security and the project's guard triggers
CENSUS = dt.date(2025, 9, 25)


def tenant_models() -> list[type[dj_models.Model]]:
    return sorted(
        (
            m
            for m in apps.get_models()
            if any(f.name == "authority" and f.concrete for f in m._meta.get_fields())
        ),
        key=lambda m: m._meta.label,
    )


class World:
    """Three authorities (A, B, C) with a lead, a locality and a person each."""

    def __init__(self, a, b, c):
        self.authorities = {"A": a, "B": b, "C": c}
        # "!" is an unusable password: these users never sign in, and hashing costs seconds.
        self.leads = {k: make_member(v, "lead", password="!") for k, v in self.authorities.items()}
        self.localities = {k: LocalityFactory(authority=v) for k, v in self.authorities.items()}
        self.people = {k: PersonFactory(locality=v) for k, v in self.localities.items()}

    def person(self, key):
        self.people[key].refresh_from_db()
        return self.people[key]


def _review(world, key):
    from registers import services

    person = world.person(key)
    services.record_review(
        world.leads[key],
        person,
        version=person.version,
        review_date=dt.date(2025, 1, 6),
        attendees="Team",
        outcome="Stable",
    )


def _transfer(world, key):
    from registers import services

    person = world.person(key)
    # Sent to C (or, from C, to B): never to A, whose scope may rightly read transfers into A.
    to = world.authorities["C" if key != "C" else "B"]
    services.request_transfer(
        world.leads[key], person, version=person.version, to_authority=to, reason="Moving"
    )


def _return_job(world, key):
    from reporting import services as reporting
    from reporting.models import ReportJob

    job = ReportJob.objects.create(
        kind="authority_return", authority=world.authorities[key], census_date=CENSUS
    )
    job = reporting.run_job(job.pk, authority_id=job.authority_id)
    assert job.status == "done", job.error


def _stored_file(world, key):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from reporting.models import ReportJob

    job = ReportJob.objects.create(
        kind="authority_csv", authority=world.authorities[key], census_date=CENSUS
    )
    default_storage.save(f"reports/{job.pk}/{key}.csv", ContentFile(b"a,b\n1,2\n"))


def _membership(world, key):
    make_member(world.authorities[key], "viewer", [world.localities[key]], password="!")


def _audit(world, key):
    from registers.audit import record_event

    record_event(world.leads[key], "test.event", authority_id=world.authorities[key].pk)


def _api_client(world, key):
    from accounts.services import create_api_client

    create_api_client(
        world.leads[key], world.authorities[key], name=f"System {key}", scopes=["read"]
    )


def _webhook(world, key):
    from accounts.services import create_api_client
    from registers.models import WebhookDelivery, WebhookEndpoint

    client, _ = create_api_client(
        world.leads[key], world.authorities[key], name=f"Notified {key}", scopes=["read"]
    )
    endpoint = WebhookEndpoint.objects.create(
        authority=world.authorities[key],
        api_client=client,
        url=f"https://{key.lower()}.example.org/hook",
        secret_salt="0" * 64,
    )
    WebhookDelivery.objects.create(
        authority=world.authorities[key], endpoint=endpoint, after=0, next=1, payload={}
    )


def _idempotency_key(world, key):
    import datetime as dt

    from django.utils import timezone

    from accounts.services import create_api_client
    from registers.models import IdempotencyKey

    client, _ = create_api_client(
        world.leads[key], world.authorities[key], name=f"Retrying {key}", scopes=["write"]
    )
    IdempotencyKey.objects.create(
        authority=world.authorities[key],
        api_client=client,
        key=f"key-{key}",
        fingerprint="0" * 64,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )


def _import_batch(world, key):
    from tests.registers.importing import csv_bytes, good_row, stage

    row = good_row(f"IMP-{key}", locality=world.localities[key].name, chi_number="")
    stage(world.leads[key], world.authorities[key], "register.csv", csv_bytes([row]))


SAMPLES = {
    "registers.Locality": lambda world, key: None,
    "registers.Person": lambda world, key: None,
    "registers.StatusChange": _review,
    "registers.Review": _review,
    "registers.AuditEvent": _audit,
    "registers.Transfer": _transfer,
    "accounts.Membership": _membership,
    "accounts.ApiClient": _api_client,
    "registers.ImportBatch": _import_batch,
    "registers.IdempotencyKey": _idempotency_key,
    "registers.WebhookEndpoint": _webhook,
    "registers.WebhookDelivery": _webhook,
    "reporting.CensusSnapshot": _return_job,
    "reporting.SnapshotRow": _return_job,
    "reporting.AuthorityReturn": _return_job,
    "reporting.ReportJob": _return_job,
    "reporting.StoredFile": _stored_file,
}


def _generic_value(field, world, key):
    """A plausible value for a required field of a model nobody described in SAMPLES."""
    if field.is_relation:
        target = field.related_model
        if target is type(world.authorities[key]):
            return world.authorities[key]
        qs = target._default_manager.all()
        if any(f.name == "authority" for f in target._meta.get_fields()):
            qs = qs.filter(authority=world.authorities[key])
        elif target is type(world.leads[key]):
            return world.leads[key]
        found = qs.first()
        if found is None:
            raise LookupError(f"no {target._meta.label} to point {field.name} at")
        return found
    if field.choices:
        return field.choices[0][0]
    by_type = {
        dj_models.CharField: "x",
        dj_models.TextField: "x",
        dj_models.EmailField: "x@example.scot",
        dj_models.SlugField: "x",
        dj_models.BooleanField: False,
        # Before DateField, of which it is a subclass.
        dj_models.DateTimeField: dt.datetime(2025, 1, 6, tzinfo=dt.UTC),
        dj_models.DateField: dt.date(2025, 1, 6),
        dj_models.JSONField: {},
        dj_models.UUIDField: None,
        dj_models.GenericIPAddressField: "192.0.2.1",
    }
    for kind, value in by_type.items():
        if isinstance(field, kind):
            if kind is dj_models.UUIDField:
                import uuid

                return uuid.uuid4()
            return value
    if isinstance(field, dj_models.IntegerField | dj_models.DecimalField | dj_models.FloatField):
        return 1
    raise LookupError(f"no generic value for {field.name} ({type(field).__name__})")


def _generic_sample(model, world, key):
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.generated or field.has_default() or field.null:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        values[field.name] = _generic_value(field, world, key)
    values["authority"] = world.authorities[key]
    model._default_manager.create(**values)


def make_rows(model, world, key) -> None:
    sample = SAMPLES.get(model._meta.label)
    try:
        with transaction.atomic():
            if sample is not None:
                sample(world, key)
            else:
                _generic_sample(model, world, key)
    except Exception as exc:  # the message says what to do
        pytest.fail(
            f"Could not make a {model._meta.label} row for the isolation test ({exc!r}): "
            "add a builder for it to SAMPLES in tests/registers/test_row_level_security.py."
        )


def _refused(sql, params) -> tuple[bool, int]:
    """Run `sql` in a savepoint: (refused with insufficient_privilege, rows affected)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return False, cursor.rowcount
    except DatabaseError as exc:
        state = getattr(exc.__cause__, "sqlstate", None)
        assert state == INSUFFICIENT_PRIVILEGE, f"refused for another reason: {exc}"
        return True, 0


@pytest.fixture
def world(authority, other_authority):
    from tests.factories import AuthorityFactory

    third = AuthorityFactory(code="S37000034", name="Glasgow City")
    return World(authority, other_authority, third)


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_authority_b_rows_are_out_of_reach_inside_authority_a_scope(model, world):
    table = model._meta.db_table
    pk = model._meta.pk.column
    column = model._meta.get_field("authority").column
    a, b = world.authorities["A"].pk, world.authorities["B"].pk
    for key in ("A", "B"):
        make_rows(model, world, key)
    b_ids = list(model._default_manager.filter(authority_id=b).values_list("pk", flat=True))
    a_id = model._default_manager.filter(authority_id=a).values_list("pk", flat=True).first()
    assert b_ids and a_id is not None, "the builder made no rows"
    columns = [f.column for f in model._meta.concrete_fields if not (f.primary_key or f.generated)]
    copied = ", ".join("%s" if c == column else f'"{c}"' for c in columns)
    quoted = ", ".join(f'"{c}"' for c in columns)

    with access.using_scope(access.scope_for(world.leads["A"])):
        seen = raw(f'SELECT count(*) FROM {table} WHERE "{pk}" = ANY(%s)', [b_ids])
        _, updated = _refused(
            f'UPDATE {table} SET "{column}" = "{column}" WHERE "{pk}" = ANY(%s)', [b_ids]
        )
        _, deleted = _refused(f'DELETE FROM {table} WHERE "{pk}" = ANY(%s)', [b_ids])
        moved_refused, moved = _refused(
            f'UPDATE {table} SET "{column}" = %s WHERE "{pk}" = %s', [b, a_id]
        )
        inserted_refused, _ = _refused(
            f'INSERT INTO {table} ({quoted}) SELECT {copied} FROM {table} WHERE "{pk}" = %s',
            [b, a_id],
        )
        raw("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred checks
        truncate_refused, _ = _refused(f"TRUNCATE {table} CASCADE", [])

    assert seen == [(0,)]
    assert (updated, deleted) == (0, 0)
    assert moved_refused or moved == 0
    assert inserted_refused
    assert truncate_refused
    # And nothing of B's changed, and A's row still belongs to A.
    assert sorted(model._default_manager.filter(authority_id=b).values_list("pk", flat=True)) == (
        sorted(b_ids)
    )
    assert model._default_manager.filter(pk=a_id, authority_id=a).exists()


# --- Transfers: shared by two authorities, forged by neither ----------------------------------


def _transfer_insert(authority_id, to_authority_id, person_id):
    return _refused(
        "INSERT INTO registers_transfer (authority_id, to_authority_id, person_id, status,"
        " reason, summary, requested_at, decision_note)"
        " VALUES (%s, %s, %s, 'pending', 'x', '{}', now(), '')",
        [authority_id, to_authority_id, person_id],
    )


def test_a_receiving_authority_cannot_forge_a_transfer_to_itself(lead, authority, other_person):
    with access.using_scope(access.scope_for(lead)):
        refused, _ = _transfer_insert(other_person.authority_id, authority.pk, other_person.pk)
    assert refused


def test_a_transfer_cannot_name_another_authoritys_person(
    lead, authority, other_authority, other_person
):
    with access.using_scope(access.scope_for(lead)):
        refused, _ = _transfer_insert(authority.pk, other_authority.pk, other_person.pk)
    assert refused


def test_the_receiving_side_cannot_change_who_is_transferred(
    lead, other_lead, person, other_authority, nithsdale
):
    from registers import services

    transfer = services.request_transfer(
        lead, person, version=person.version, to_authority=other_authority, reason="Moving"
    )
    someone_else = PersonFactory(locality=nithsdale)
    with access.using_scope(access.scope_for(other_lead)):
        refused, _ = _refused(
            "UPDATE registers_transfer SET person_id = %s WHERE id = %s",
            [someone_else.pk, transfer.pk],
        )
    assert refused
    transfer.refresh_from_db()
    assert transfer.person_id == person.pk
