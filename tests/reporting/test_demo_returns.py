"""Demo data: earlier census dates' returns, built by the real code, submitted and accepted."""

import time

import pytest
from django.core.management import call_command

from registers.demo import NATIONAL_ANALYST_EMAIL
from reporting import demo, services
from reporting.census import recent_census_dates
from reporting.models import AuthorityReturn, JobKind, JobStatus, ReportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.DSR_RETURN_DEADLINE_DAYS = 28
    started = time.monotonic()
    call_command("seed_demo", "--scale", "0.2", "--quiet")
    return time.monotonic() - started


def test_seeding_builds_submits_and_accepts_earlier_returns_so_national_files_can_be_built(
    seeded, client
):
    from django.utils import timezone

    dates = sorted(recent_census_dates(timezone.localdate(), demo.DEMO_QUARTERS))
    earlier = AuthorityReturn.objects.filter(census_date__in=dates[:-1])
    assert earlier.count() == 31 * (len(dates) - 1)
    assert set(earlier.values_list("status", flat=True)) == {"accepted"}
    latest = AuthorityReturn.objects.filter(census_date=dates[-1])
    assert latest.filter(status="submitted").count() == demo.LATEST_WAITING
    assert latest.count() == 31 - demo.LATEST_MISSING
    assert services.national_build_blocker(dates[-1]) == ""
    # The returns are the real code's: the movement between census dates adds up to the register.
    ret = earlier.filter(census_date=dates[-2]).order_by("authority__code").first()
    movement = next(t for t in ret.tables if t["key"] == "category_movement")
    category = next(t for t in ret.tables if t["key"] == "category")
    assert sum(map(sum, category["cells"])) == sum(sum(row[:-1]) for row in movement["cells"])


def test_seeding_returns_again_changes_nothing(seeded):
    before = AuthorityReturn.objects.count()
    assert demo.seed_returns() == 0
    assert AuthorityReturn.objects.count() == before
    assert demo.queue_national_builds() == 0


def test_seeding_queues_a_national_build_per_earlier_date_for_the_worker(seeded):
    from django.utils import timezone

    dates = sorted(recent_census_dates(timezone.localdate(), demo.DEMO_QUARTERS))
    jobs = ReportJob.objects.filter(authority__isnull=True)
    # Queued, not built inline (the worker builds them): one per earlier date, none for the
    # latest (returns still wait for the analyst there).
    assert sorted(jobs.values_list("census_date", "kind", "status")) == [
        (day, JobKind.NATIONAL_CSV, JobStatus.QUEUED) for day in dates[:-1]
    ]
    assert jobs.first().requested_by.email == NATIONAL_ANALYST_EMAIL


@pytest.mark.parametrize("how", ["--no-returns", "a scale above the limit"])
def test_benchmark_scales_seed_no_returns(how, monkeypatch):
    from io import StringIO

    out = StringIO()
    flags = ["--no-returns"] if how == "--no-returns" else []
    monkeypatch.setattr(demo, "MAX_RETURNS_SCALE", 0.05)
    if flags:
        monkeypatch.setattr(demo, "MAX_RETURNS_SCALE", 2.0)
    call_command("seed_demo", "--scale", "0.1", *flags, "--quiet", stdout=out)
    assert "No demo census returns built" in out.getvalue()
    assert not AuthorityReturn.objects.exists()
    assert not ReportJob.objects.exists()
