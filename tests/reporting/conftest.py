import datetime as dt

import pytest

from reporting import services
from reporting.models import JobKind, ReportJob
from tests.factories import PersonFactory

CENSUS = dt.date(2025, 9, 25)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def census():
    return CENSUS


@pytest.fixture
def known_register(nithsdale, stewartry):
    """A hand-built register for Dumfries and Galloway with known counts on 25 Sep 2025:
    10 adults (5 urgent: 2 at risk, 2 in hospital of which 1 delayed, 1 inappropriately out of
    area; 3 enhanced monitoring; 2 appropriately out of area), 4 of them male; one 17-year-old
    in transition; one who left in July (died) and one added after the census date."""
    make = PersonFactory
    people = [
        make(locality=nithsdale, sex="male"),
        make(locality=nithsdale, next_review_due=dt.date(2025, 9, 1)),
        make(locality=stewartry, date_added=dt.date(2025, 7, 15)),
        make(locality=nithsdale, at_risk=True, sex="male"),
        make(locality=stewartry, at_risk=True),
        make(locality=nithsdale, in_hospital=True, sex="male"),
        make(
            locality=nithsdale,
            in_hospital=True,
            ready_for_discharge_date=dt.date(2025, 8, 1),
            delay_reason="accommodation",
        ),
        make(locality=stewartry, inappropriate_out_of_area=True, sex="male"),
        make(locality=nithsdale, appropriate_out_of_area=True),
        make(locality=stewartry, appropriate_out_of_area=True),
        make(locality=nithsdale, date_of_birth=dt.date(2008, 1, 1)),
        make(locality=nithsdale, date_left=dt.date(2025, 7, 20), leaving_reason="died"),
        make(locality=nithsdale, date_added=dt.date(2025, 10, 10)),
    ]
    return people


def run(kind, *, authority=None, census_date=CENSUS, person=None, user=None):
    """Create a job and run it as the Celery task would (synchronously)."""
    job = ReportJob.objects.create(
        kind=kind, authority=authority, census_date=census_date, person=person, requested_by=user
    )
    return services.run_job(job.pk, authority_id=job.authority_id)


def build_return(authority, census_date=CENSUS):
    job = run(JobKind.AUTHORITY_RETURN, authority=authority, census_date=census_date)
    assert job.status == "done", job.error
    return authority.returns.get(census_date=census_date)
