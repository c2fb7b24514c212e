"""Two Celery queues: interactive work a person waits on, heavy work nobody waits on."""

import datetime as dt

import pytest

from dsr.celery import HEAVY_TASKS, route_task
from reporting import services
from reporting.models import NATIONAL_KINDS, JobKind, ReportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_queues(settings):
    settings.DSR_QUEUE_INTERACTIVE, settings.DSR_QUEUE_HEAVY = "interactive", "heavy"


@pytest.mark.parametrize("kind", NATIONAL_KINDS)
def test_national_builds_go_to_the_heavy_queue(two_queues, kind):
    assert services.queue_for(ReportJob(kind=kind)) == "heavy"


@pytest.mark.parametrize(
    "kind", [JobKind.AUTHORITY_RETURN, JobKind.AUTHORITY_PDF, JobKind.PERSON_PROFILE]
)
def test_one_authoritys_files_and_returns_go_to_the_interactive_queue(two_queues, kind, authority):
    assert services.queue_for(ReportJob(kind=kind, authority=authority)) == "interactive"


def test_the_scheduled_snapshots_of_every_authority_go_to_the_heavy_queue(
    two_queues, authority, other_authority, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "reporting.tasks.run_report_job.apply_async",
        lambda args, queue: sent.append((args[0], queue)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        jobs = services.schedule_due_snapshots(today=dt.date(2025, 9, 26))
    assert len(jobs) >= 2
    assert {queue for _, queue in sent} == {"heavy"}


def test_scheduled_and_slow_tasks_are_routed_to_the_heavy_queue_and_the_rest_interactive(
    two_queues,
):
    assert route_task("reporting.tasks.send_return_reminder", (), {}, {}) == {"queue": "heavy"}
    assert all(route_task(name, (), {}, {}) == {"queue": "heavy"} for name in HEAVY_TASKS)
    for name in ("reporting.tasks.run_report_job", "reporting.tasks.fail_stuck_jobs"):
        assert route_task(name, (), {}, {}) == {"queue": "interactive"}
