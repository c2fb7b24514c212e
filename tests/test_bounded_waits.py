"""Bounded waits at the database: every connection carries a statement timeout, a lock timeout
and an idle-in-transaction timeout; a statement cancelled by one or a lock not granted in time is
answered with the service's own 503 page (problem details under /api/), in seconds, never a 500 or
gunicorn's bare page; gunicorn's timeout is above the statement timeout; and a change that
committed is never reported as failed because the session could not be saved after it."""

import importlib.util
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, connection

from accounts.services import create_api_client
from tests.registers.api.conftest import client_with

ROOT = Path(__file__).resolve().parent.parent


def _show(name):
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_every_connection_has_a_statement_lock_and_idle_transaction_timeout():
    assert _show("statement_timeout") == "15s"
    assert _show("lock_timeout") == "5s"
    assert _show("idle_in_transaction_session_timeout") == "1min"


def test_report_work_in_workers_and_commands_may_take_longer():
    assert (
        django_settings.DSR_DB_JOB_STATEMENT_TIMEOUT_MS
        > django_settings.DSR_DB_STATEMENT_TIMEOUT_MS
    )


def test_gunicorn_runs_threads_with_a_timeout_above_the_statement_timeout():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert conf.worker_class == "gthread" and conf.threads > 1
    assert conf.timeout > django_settings.DSR_DB_STATEMENT_TIMEOUT_MS / 1000
    for path in ("Dockerfile", "docker-compose.yml"):
        assert "gunicorn.conf.py" in (ROOT / path).read_text(), path


@pytest.fixture
def people_table_locked(db_roles_url):
    """A second connection holds an exclusive lock on the register's table until the test ends."""
    holder = psycopg.connect(db_roles_url, autocommit=False)
    holder.execute("LOCK TABLE registers_person IN ACCESS EXCLUSIVE MODE")
    yield
    holder.rollback()
    holder.close()


@pytest.fixture
def db_roles_url():
    from tests import db_roles

    name = django_settings.DATABASES["default"]["NAME"]
    base = db_roles.url("owner")
    return base.rsplit("/", 1)[0] + "/" + name


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_a_held_table_lock_gives_the_busy_page_within_the_lock_timeout(
    client, lead, person, people_table_locked
):
    client.force_login(lead)
    response, seconds = _timed(lambda: client.get("/register/"))
    assert response.status_code == 503
    assert "The service is busy" in response.content.decode()
    assert response["Retry-After"]
    assert seconds < django_settings.DSR_DB_LOCK_TIMEOUT_MS / 1000 + 3


@pytest.mark.django_db(transaction=True)
def test_a_held_table_lock_gives_problem_details_under_the_api(
    lead, authority, person, settings, people_table_locked
):
    settings.DSR_API_RATE = "10000/min"
    _, token = create_api_client(lead, authority, name="Care First", scopes=["read"])
    response = client_with(token).get("/api/v1/people/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:dsr:problem:service-busy"


@pytest.mark.django_db(transaction=True)
def test_a_statement_cancelled_by_its_timeout_gives_the_busy_page(
    client, lead, person, people_table_locked
):
    client.force_login(lead)
    with connection.cursor() as cursor:  # the request's connection: the statement gives up first
        cursor.execute("SET statement_timeout = '300ms'; SET lock_timeout = 0")
    try:
        response, seconds = _timed(lambda: client.get("/register/"))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout; RESET lock_timeout")
    assert response.status_code == 503 and seconds < 3


@pytest.mark.django_db
def test_a_saved_change_is_not_reported_as_failed_when_the_session_cannot_be_saved(
    client, practitioner, person, monkeypatch
):
    client.force_login(practitioner)

    def session_write_fails(self, must_create=False):
        raise OperationalError("the database restarted")

    monkeypatch.setattr(SessionStore, "save", session_write_fails)
    response = client.post(
        f"/register/people/{person.pk}/quick-status/",
        {
            "from": "list",
            "next": "/register/",
            "status": "enhanced_monitoring",
            "risk_rating": "amber",
            "reason": "Rising risk",
            "version": person.version,
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.risk_rating == "amber"
