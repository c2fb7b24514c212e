"""Health checks, metrics and structured logs (docs/operations.md, "Health checks and metrics")."""

import io
import json
import logging
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from dsr import health, logs
from dsr.celery import app
from registers.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_heard_from():
    health.record_worker_heartbeat()
    yield
    cache.delete(health.HEARTBEAT_KEY)


# --- Liveness and readiness -------------------------------------------------------------------


def test_liveness_answers_with_no_session():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_readiness_lists_each_check_and_is_ready_when_all_pass(worker_heard_from):
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": dict.fromkeys(["database", "redis", "migrations", "worker", "storage"], "ok"),
    }


def test_readiness_fails_with_no_worker_heard_from_recently(settings):
    cache.set(health.HEARTBEAT_KEY, time.time() - settings.DSR_WORKER_HEARTBEAT_LIMIT_SECONDS - 5)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "failing"
    cache.delete(health.HEARTBEAT_KEY)
    assert Client().get("/readyz").json()["checks"]["worker"] == "failing"


def test_the_heartbeat_task_tells_readiness_a_worker_is_alive():
    cache.delete(health.HEARTBEAT_KEY)
    from dsr.tasks import worker_heartbeat

    worker_heartbeat.apply()
    assert health.check_worker()


def test_readiness_fails_with_redis_away(settings, own_redis):
    settings.CACHES = {
        "default": settings.CACHES["default"] | {"LOCATION": own_redis.url, "KEY_PREFIX": "t"}
    }
    health.record_worker_heartbeat()
    assert Client().get("/readyz").status_code == 200
    own_redis.stop()
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "failing"


def test_readiness_fails_with_a_migration_unapplied(monkeypatch, worker_heard_from):
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [("a migration", False)],
    )
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "redis": "ok",
        "migrations": "failing",
        "worker": "ok",
        "storage": "ok",
    }


@pytest.fixture
def files_on_disk(settings, tmp_path):
    """The one-machine storage (DSR_FILE_STORAGE=filesystem), for its write probe."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def test_readiness_fails_with_storage_not_writable(monkeypatch, worker_heard_from, tmp_path):
    from django.core.files.storage import FileSystemStorage

    class Refusing(FileSystemStorage):
        def save(self, name, content, max_length=None):
            raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(health, "default_storage", Refusing(location=tmp_path))
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "failing"


def test_readiness_leaves_no_probe_file_on_disk(settings, worker_heard_from, files_on_disk):
    assert Client().get("/readyz").status_code == 200
    readyz = Path(settings.MEDIA_ROOT) / "readyz"
    assert not readyz.exists() or not any(readyz.iterdir())


def test_readiness_checks_the_database_file_store_without_writing(worker_heard_from):
    from reporting.models import StoredFile

    assert Client().get("/readyz").json()["checks"]["storage"] == "ok"
    assert not StoredFile.objects.exists()


def test_readiness_fails_when_the_database_file_store_is_away(monkeypatch, worker_heard_from):
    from django.core.files.storage import default_storage
    from django.db import ProgrammingError

    def away():
        raise ProgrammingError('relation "reporting_storedfile" does not exist')

    monkeypatch.setattr(default_storage, "ready", away)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "failing"


def test_readiness_fails_with_the_database_away(monkeypatch, worker_heard_from):
    from django.db import OperationalError

    def away():
        raise OperationalError("could not connect to server")

    monkeypatch.setitem(health.CHECKS, "database", away)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "failing"
    assert "could not connect" not in response.content.decode()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_pass_the_second_factor_and_reveal_nothing(client, lead, path, worker_heard_from):
    # Signed in with a password only: every page would send this session to the second step.
    client.sign_in_with_password_only(lead)
    assert client.get("/register/").status_code == 302
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert set(response.json()) <= {"status", "checks"}
    assert "postgres" not in body and "redis://" not in body and "Traceback" not in body


# --- Metrics ----------------------------------------------------------------------------------


def test_metrics_are_not_found_without_the_token(settings):
    settings.DSR_METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    settings.DSR_METRICS_TOKEN = "s3cret-token-for-scrapers"
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert (
        Client().get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-token-for-scrapers").status_code
        == 404
    )


def test_metrics_report_requests_database_tasks_and_queues(settings, client, lead):
    settings.DSR_METRICS_TOKEN = "s3cret-token-for-scrapers"
    from dsr.metrics import TASK_STATES_KEY, _redis
    from dsr.tasks import worker_heartbeat

    _redis(settings.REDIS_URL).delete(TASK_STATES_KEY)
    client.force_login(lead)
    assert client.get("/register/").status_code == 200

    worker_heartbeat.apply()
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token-for-scrapers")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'dsr_http_requests_total{method="GET",status="200",view="registers:person_list"}' in text
    assert 'dsr_http_request_duration_seconds_count{view="registers:person_list"}' in text
    assert 'dsr_db_queries_total{view="registers:person_list"}' in text
    assert 'dsr_celery_tasks_total{state="succeeded",task="dsr.tasks.worker_heartbeat"}' in text
    assert f'dsr_celery_queue_length{{queue="{app.conf.task_default_queue}"}}' in text
    assert "dsr_redis_up 1.0" in text


def test_request_labels_are_view_names_never_ids(settings, client, lead, person):
    settings.DSR_METRICS_TOKEN = "s3cret-token-for-scrapers"
    client.force_login(lead)
    client.get(f"/register/people/{person.pk}/")
    text = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token-for-scrapers")
    text = text.content.decode()
    assert 'view="registers:person_detail"' in text
    assert f"/{person.pk}/" not in text


# --- Request ids and JSON logs ----------------------------------------------------------------


def test_a_well_formed_request_id_is_kept_and_any_other_replaced():
    kept = Client().get("/healthz", HTTP_X_REQUEST_ID="edge-0a1b2c3d4e")
    assert kept["X-Request-ID"] == "edge-0a1b2c3d4e"
    for bad in ["short", "has space in it", "x" * 65, "<script>alert(1)</script>"]:
        replaced = Client().get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert replaced != bad and len(replaced) == 32
    assert Client().get("/healthz")["X-Request-ID"] != Client().get("/healthz")["X-Request-ID"]


def test_a_task_queued_in_a_request_carries_its_request_id():
    captured = {}
    from celery import signals

    def keep(headers=None, **_):
        captured.update(headers)

    signals.before_task_publish.connect(keep)
    token = logs.request_id.set("req-1234567890")
    try:
        with app.connection_for_write() as conn:
            app.send_task("dsr.tasks.worker_heartbeat", connection=conn)
    finally:
        logs.request_id.reset(token)
        signals.before_task_publish.disconnect(keep)
    assert captured["dsr_request_id"] == "req-1234567890"


def test_a_task_logs_under_the_request_id_its_message_carries(all_log_lines):
    from dsr.tasks import worker_heartbeat

    assert logs.request_id.get() is None
    worker_heartbeat.apply(headers={"dsr_request_id": "req-from-header-1"})
    entries = [json.loads(line) for line in all_log_lines()]
    ran = [e for e in entries if e.get("task") == "dsr.tasks.worker_heartbeat"]
    assert ran and all(e["request_id"] == "req-from-header-1" for e in ran)
    assert logs.request_id.get() is None


@pytest.fixture
def all_log_lines():
    """Every record any logger emits, formatted as the service's console handler does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    # As with DJANGO_LOG_LEVEL=DEBUG: the most an operator can ask for, with the levels the
    # service's LOGGING pins for the loggers that would print records' contents.
    root.setLevel(logging.DEBUG)
    yield lambda: stream.getvalue().splitlines()
    root.removeHandler(handler)
    root.setLevel(level)


def test_no_log_line_carries_a_name_date_of_birth_or_chi(
    client, lead, nithsdale, all_log_lines, django_capture_on_commit_callbacks
):
    from reporting.models import ReportJob

    client.force_login(lead)
    response = client.post(
        "/register/add/",
        {
            "given_name": "Morag",
            "family_name": "Fraserovna",
            "date_of_birth": "17/05/1990",
            "sex": "female",
            "chi_number": "1705904408",
            "local_reference": "LOG-1",
            "referral_source": "health",
            "locality": nithsdale.pk,
            "status": "enhanced_monitoring",
            "risk_rating": "amber",
        },
        HTTP_X_REQUEST_ID="req-add-person-1",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get(local_reference="LOG-1")
    assert person.chi_number == "1705904408"
    assert client.get(f"/register/people/{person.pk}/").status_code == 200
    # A task too: the person's profile, built by Celery in this process. In service the request's
    # transaction commits inside the request, which queues the task there; here the test's own
    # transaction holds the commit, so the queueing runs as it would, under the request's id.
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            f"/reporting/people/{person.pk}/profile/", HTTP_X_REQUEST_ID="req-profile-1"
        )
    eager, app.conf.task_always_eager = app.conf.task_always_eager, True
    token = logs.request_id.set(response["X-Request-ID"])
    try:
        for send in queued:
            send()
    finally:
        logs.request_id.reset(token)
        app.conf.task_always_eager = eager
    job = ReportJob.objects.get(kind="person_profile")
    assert job.status == "done", job.error
    missing = client.get("/register/people/999999999/", HTTP_X_REQUEST_ID="req-not-found-1")
    assert missing.status_code == 404

    lines = all_log_lines()
    assert lines, "nothing was logged"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e["request_id"] == "req-not-found-1" for e in entries)
    # The task's own lines carry the id of the request that queued it.
    assert any(e.get("task") and e["request_id"] == "req-profile-1" for e in entries)
    text = "\n".join(lines)
    for secret in ["Morag", "Fraserovna", "1705904408", "17/05/1990", "1990-05-17", "17 May 1990"]:
        assert secret not in text


def test_the_web_servers_access_line_is_json_with_the_request_id():
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, "%(r)s %(s)s", None, None
    )
    record.args = {"r": "GET /healthz HTTP/1.1", "s": "200", "{x-request-id}o": "edge-0a1b2c3d4e"}
    entry = json.loads(logs.JsonFormatter().format(record))
    assert entry["message"] == "GET /healthz HTTP/1.1 200"
    assert entry["request_id"] == "edge-0a1b2c3d4e"
