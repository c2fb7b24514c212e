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


def _reference_trend(authority_id, ends):
    """The trend folded in Python over the whole history, entry by entry: the oracle."""
    from registers.models import StatusChange

    totals = [[0, 0, 0] for _ in ends]
    histories: dict[int, list] = {}
    for change in StatusChange.objects.filter(authority_id=authority_id).order_by(
        "person_id", "effective_date", "changed_at", "id"
    ):
        histories.setdefault(change.person_id, []).append(change)
    for history in histories.values():
        for i, end in enumerate(ends):
            in_force = [c.state for c in history if c.effective_date <= end]
            if not in_force:
                continue
            state = in_force[-1]
            if state.get("date_left") and state["date_left"] <= end.isoformat():
                continue
            hospital = state.get("urgent_reason") == "in_hospital"
            ready = state.get("ready_for_discharge_date")
            totals[i][0] += hospital
            totals[i][1] += hospital and bool(ready) and ready < end.isoformat()
            totals[i][2] += state.get("category") == "appropriate_out_of_area" or (
                state.get("urgent_reason") == "inappropriate_out_of_area"
            )
    return [tuple(t) for t in totals]


def test_the_trend_counted_in_the_database_matches_folding_every_entry():
    from django.core.management import call_command

    from accounts.models import Membership
    from registers.models import IntegrationAuthority

    call_command("seed_demo", "--scale", "0.3", "--quiet")
    seen = 0
    for code in ("S37000034", "S37000012", "S37000006"):
        authority = IntegrationAuthority.objects.get(code=code)
        lead = Membership.objects.get(authority=authority, role="lead").user
        trend = selectors.monthly_trend(lead, authority_id=authority.pk)
        expected = _reference_trend(authority.pk, [point.month_end for point in trend])
        assert [(p.in_hospital, p.delayed_discharge, p.out_of_area) for p in trend] == expected
        seen += sum(p.in_hospital + p.delayed_discharge + p.out_of_area for p in trend)
    assert seen  # the comparison covered people in hospital, delayed and out of area
