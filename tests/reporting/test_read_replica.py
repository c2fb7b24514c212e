"""The optional read replica (docs/operations.md, "Read replica"; dsr/routers.py).

A "replica" alias here is the test database on a connection of its own, logged in as the runtime
role as a real replica's alias is (DATABASE_REPLICA_URL): what the test data commits, it reads, so
the tests run with committed transactions. Queries captured on each connection show where the
national figures page reads, and the replica's connection is bound to the same sealed scope as the
request's, row-level security included.
"""

import logging
import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, connections, router
from django.test.utils import CaptureQueriesContext

from dsr.routers import REPLICA
from registers import access
from registers.models import Person
from reporting import selectors
from reporting.models import ReportJob
from tests import db_roles
from tests.factories import AuthorityFactory
from tests.reporting.test_national_figures import accepted, cells, enhanced, page, publish

ROOT = Path(__file__).resolve().parents[2]
JOBS = ReportJob._meta.db_table


@contextmanager
def replica_alias_of(**settings):
    """The alias, as dsr/settings.py makes it from DATABASE_REPLICA_URL, on the test database:
    added before the test's database is set up, which must know every alias it may use."""
    connections.settings[REPLICA] = {
        **connections["default"].settings_dict,
        **db_roles.credentials("runtime"),
        "TEST": {"MIRROR": "default"},
        **settings,
    }
    try:
        yield
    finally:
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture(scope="class")
def replica_alias():
    with replica_alias_of():
        yield


@pytest.fixture(scope="class")
def replica_away():
    """The alias pointing at a port where nothing listens: a standby that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with replica_alias_of(HOST="127.0.0.1", PORT=port):
        yield


@pytest.fixture
def replica(replica_alias, transactional_db):
    yield connections[REPLICA]
    # Nothing left open while the test's tables are emptied.
    connections[REPLICA].close()


@pytest.fixture
def release(analyst, census):
    accepted(AuthorityFactory(code="S37000101", name="Alpha"), census, enhanced(20))
    accepted(AuthorityFactory(code="S37000102", name="Beta"), census, enhanced(30))
    return publish(analyst, census)


def reads_of_jobs(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if JOBS in q["sql"]]


@pytest.mark.usefixtures("replica_alias")
@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
class TestWithAReplica:
    def test_the_national_figures_read_their_releases_on_the_replica(
        self, replica, release, analyst, census
    ):
        with (
            CaptureQueriesContext(replica) as on_replica,
            CaptureQueriesContext(connection) as on_default,
        ):
            found = selectors.national_figures(analyst, census)
        assert found.release.pk == release.pk
        assert found.release._state.db == REPLICA
        assert found.headlines[census]["scotland"]["people"] == 50
        # The release and the trend's headlines: both on the replica, none on the primary.
        assert len(reads_of_jobs(on_replica)) == 2
        assert reads_of_jobs(on_default) == []
        # The transaction there was bound to the analyst's scope first, with its seals.
        statements = [q["sql"] for q in on_replica.captured_queries if q["sql"] != "BEGIN"]
        assert "set_config" in statements[0] and "dsr.seal_scope" in statements[0]
        assert "'national'" in statements[0]

    def test_the_national_figures_page_reads_the_replica_and_shows_the_release(
        self, client, replica, release, analyst, census
    ):
        client.force_login(analyst)
        with (
            CaptureQueriesContext(replica) as on_replica,
            CaptureQueriesContext(connection) as on_default,
        ):
            html = page(client, census)
        assert cells(html, "Scotland")[0] == "50"
        assert cells(html, "Alpha")[0] == "20"
        assert len(reads_of_jobs(on_replica)) == 2
        assert reads_of_jobs(on_default) == []

    def test_the_replica_connection_is_bound_to_the_scope_and_row_level_security_applies(
        self, replica, lead, other_lead, person, other_person
    ):
        # Without a scope, the replica's connection sees no tenant row at all.
        with replica.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {Person._meta.db_table}")
            assert cursor.fetchone() == (0,)
        with access.reporting_reads(access.scope_for(lead)):
            with replica.cursor() as cursor:
                cursor.execute("SELECT session_user, current_user")
                # The runtime role, as on the primary (never the owner, whom the policies would bind
                # too, but who could turn them off).
                assert cursor.fetchone() == ("dsr_app", "dsr_app")
            with CaptureQueriesContext(replica) as on_replica:
                seen = set(Person.objects.values_list("pk", flat=True))
            # Everything in its own authority, nothing of another: the policy, not the ORM, decided,
            # because the query asked for every person.
            assert seen == {person.pk}
            assert other_person.pk not in seen
            assert len(on_replica.captured_queries) == 1
        with access.reporting_reads(access.scope_for(other_lead)):
            assert set(Person.objects.values_list("pk", flat=True)) == {other_person.pk}
        # The block's end ended its transaction: the scope does not outlive it.
        assert not replica.in_atomic_block
        with replica.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {Person._meta.db_table}")
            assert cursor.fetchone() == (0,)

    def test_only_reads_in_the_block_go_to_the_replica(self, replica, release, analyst, census):
        assert router.db_for_read(ReportJob) == "default"
        with access.reporting_reads(access.scope_for(analyst)):
            assert router.db_for_read(ReportJob) == REPLICA
            # Writes, and migrations, go to the primary whatever the block.
            assert router.db_for_write(ReportJob) == "default"
            job = ReportJob.objects.get(pk=release.pk)
        assert job._state.db == REPLICA
        # Afterwards, what the object reads next is read from the primary, in the request's scope.
        assert router.db_for_read(ReportJob, instance=job) == "default"
        assert not router.allow_migrate(REPLICA, "reporting")
        assert router.allow_migrate("default", "reporting")


@pytest.mark.usefixtures("replica_away")
@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_a_replica_that_is_away_leaves_the_page_reading_the_primary(
    client, release, analyst, census, caplog, monkeypatch
):
    # A worker started earlier in the run reconfigures logging and disables loggers it found.
    monkeypatch.setattr(logging.getLogger("registers.access"), "disabled", False)
    client.force_login(analyst)
    with CaptureQueriesContext(connection) as on_default, caplog.at_level(logging.WARNING):
        html = page(client, census)
    assert cells(html, "Scotland")[0] == "50"
    assert len(reads_of_jobs(on_default)) == 2
    assert "read replica unavailable: reading the primary instead" in caplog.text


@pytest.mark.django_db
def test_without_a_replica_everything_reads_the_primary(analyst, census, release):
    assert not access.replica_configured()
    scope = access.scope_for(analyst)
    with CaptureQueriesContext(connection) as on_default:
        with access.reporting_reads(scope):
            assert router.db_for_read(ReportJob) == "default"
        found = selectors.national_figures(analyst, census)
    assert found.release.pk == release.pk
    assert found.release._state.db == "default"
    # The block itself adds no statement; the selector's two reads are the primary's.
    assert len(reads_of_jobs(on_default)) == 2
    assert len(on_default.captured_queries) == 2


def settings_of(**env: str) -> str:
    code = (
        "from django.conf import settings as s; "
        "r = s.DATABASES.get('replica'); d = s.DATABASES['default']; "
        "print(r and (r['NAME'], r['USER'], r['HOST'], r['OPTIONS']['options'] == "
        "d['OPTIONS']['options'], r['OPTIONS']['connect_timeout'], "
        "r['CONN_MAX_AGE'] == d['CONN_MAX_AGE'], r['CONN_HEALTH_CHECKS'], r['TEST']['MIRROR']), "
        "s.DATABASE_ROUTERS)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_REPLICA_URL": "", **env},
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_the_replica_alias_exists_only_when_its_url_is_set():
    assert settings_of() == "None ['dsr.routers.ReportingReadRouter']"
    given = settings_of(DATABASE_REPLICA_URL="postgres://dsr_app:secret@standby.internal:5432/dsr")
    assert given == (
        "('dsr', 'dsr_app', 'standby.internal', True, 3, True, True, 'default') "
        "['dsr.routers.ReportingReadRouter']"
    )
