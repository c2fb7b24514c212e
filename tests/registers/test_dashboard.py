import datetime as dt

import pytest
from django.utils import timezone

from registers import selectors, services
from registers.codes import Category
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_counts_in_a_chart_and_a_table(client, lead, nithsdale):
    PersonFactory(locality=nithsdale, at_risk=True)
    PersonFactory(locality=nithsdale, in_hospital=True)
    client.force_login(lead)
    response = client.get("/register/dashboard/")
    body = response.content.decode()
    assert '<svg class="dsr-chart"' in body
    assert 'role="img"' in body
    rows = {key: n for key, _, n in response.context["counts"]["rows"]}
    assert (rows["urgent"], rows["urgent:in_hospital"]) == (2, 1)
    assert len(response.context["trend"]) == 12


def test_the_dashboard_is_for_the_lead(client, practitioner):
    client.force_login(practitioner)
    assert client.get("/register/dashboard/").status_code == 403


def test_the_trend_is_rebuilt_from_history(lead, person):
    today = timezone.localdate()
    services.record_status_change(
        lead,
        person,
        version=person.version,
        category=Category.URGENT,
        urgent_reason="in_hospital",
        reason="Admitted",
        hospital_name="Midpark",
        hospital_type="ld_inpatient",
        admission_date=today,
        legal_status="informal",
    )
    trend = selectors.monthly_trend(lead, authority_id=person.authority_id)
    assert trend[-1].in_hospital == 1
    assert trend[-2].in_hospital == 0


def test_the_trend_counts_nobody_after_they_left(lead, person):
    from registers.models import StatusChange

    assert StatusChange.objects.count() == 0  # factory rows have no history
    services.remove_from_register(
        lead,
        person,
        version=person.version,
        date_left=timezone.localdate() - dt.timedelta(days=1),
        leaving_reason="died",
    )
    trend = selectors.monthly_trend(lead, authority_id=person.authority_id)
    assert all(point.in_hospital == 0 for point in trend)


@pytest.mark.parametrize("rows", [5, 100])
def test_the_dashboard_runs_a_constant_number_of_queries(
    client, lead, nithsdale, rows, django_assert_max_num_queries
):
    PersonFactory.create_batch(rows, locality=nithsdale, in_hospital=True)
    client.force_login(lead)
    with django_assert_max_num_queries(15):
        assert client.get("/register/dashboard/").status_code == 200
