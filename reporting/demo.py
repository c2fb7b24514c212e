"""Demo returns: earlier census dates' returns built by the real code from the seeded history,
then submitted by each authority's demo lead and accepted by the demo national analyst, so that
the national page, trends, movement and national files work at first sign-in.

Idempotent: a census date an authority already has a return for is left alone. The latest census
date is left part done, as a real quarter is: a few returns submitted and waiting for the
analyst's decision, and a couple not built (missing, overdue once past the deadline).

National releases are not built here: `queue_national_builds` queues one national CSV build per
earlier census date as an ordinary job, which the worker `make run` starts builds in the
background within seconds (the whole-release disclosure audit of a full-size release takes a
few seconds); the national figures page shows each date once its release is built. Benchmark
data sets (large scales) get no demo returns at all (`MAX_RETURNS_SCALE`).
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from registers import access
from registers.demo import DEMO_EMAIL_DOMAIN, NATIONAL_ANALYST_EMAIL, demo_email
from registers.models import IntegrationAuthority

from . import services
from .census import recent_census_dates
from .models import AuthorityReturn, JobKind, JobStatus, ReportJob

DEMO_QUARTERS = 4
LATEST_WAITING = 3  # returns of the latest census date left submitted, for the analyst to decide
LATEST_MISSING = 2  # and not built at all
# Above this scale (benchmarks seed at 100) no demo returns are built: each return snapshots the
# whole register of its authority from the history, four dates of them would multiply seeding
# time, and the benchmarks do not need them.
MAX_RETURNS_SCALE = 2.0


def seed_returns(
    *, today: dt.date | None = None, quarters: int = DEMO_QUARTERS, stdout=None
) -> int:
    """Build, submit and accept the demo authorities' returns of the last `quarters` census
    dates (oldest first). Returns how many returns were made."""
    started = time.monotonic()
    today = today or timezone.localdate()
    dates = sorted(recent_census_dates(today, quarters))
    with transaction.atomic(), access.system_scope("seed_demo: returns"):
        analyst = User.objects.filter(email=NATIONAL_ANALYST_EMAIL).first()
        authorities = list(IntegrationAuthority.objects.order_by("code"))
        leads = {
            u.email: u
            for u in User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}", is_active=True)
        }
        done = set(AuthorityReturn.objects.values_list("authority_id", "census_date"))
    if analyst is None:
        return 0
    made = 0
    for day in dates:
        latest = day == dates[-1]
        for n, authority in enumerate(authorities):
            lead = leads.get(demo_email("lead", authority))
            if lead is None or (authority.pk, day) in done:
                continue
            if latest and n >= len(authorities) - LATEST_MISSING:
                continue
            _return(authority, day, lead, analyst, accept=not (latest and n < LATEST_WAITING))
            made += 1
        if stdout:
            stdout.write(f"  returns for {day:%-d %B %Y}: built")
    if stdout:
        stdout.write(f"  {made} returns in {time.monotonic() - started:.1f}s")
    return made


def _return(
    authority: IntegrationAuthority, day: dt.date, lead: User, analyst: User, *, accept: bool
) -> None:
    """The same steps as the census job, the lead's submit and the analyst's decision."""
    with transaction.atomic():
        with access.using_scope(services.task_scope(authority.pk)):
            snapshot = services.take_snapshot(None, authority_id=authority.pk, census_date=day)
            ret = services.build_return(None, snapshot=snapshot)
        with access.user_scope(lead):
            ret = services.submit_return(lead, ret)
        if accept:
            with access.user_scope(analyst):
                services.accept_return(analyst, ret)


def queue_national_builds(*, today: dt.date | None = None, quarters: int = DEMO_QUARTERS) -> int:
    """Queue, as the demo analyst, a national CSV build for each earlier demo census date (newest
    first) that has no built release and no build on the way. The latest date is left to the
    analyst: some of its returns wait for a decision. Returns how many builds were queued."""
    today = today or timezone.localdate()
    dates = sorted(recent_census_dates(today, quarters))[:-1]
    analyst = User.objects.filter(email=NATIONAL_ANALYST_EMAIL, is_active=True).first()
    if analyst is None:
        return 0
    queued = 0
    with transaction.atomic(), access.user_scope(analyst):
        for day in reversed(dates):
            exists = ReportJob.objects.filter(
                authority__isnull=True,
                census_date=day,
                kind=JobKind.NATIONAL_CSV,
                status__in=[JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE],
            ).exists()
            if exists or services.national_build_blocker(day):
                continue
            services.request_job(analyst, kind=JobKind.NATIONAL_CSV, census_date=day)
            queued += 1
    return queued
