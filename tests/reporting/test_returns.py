"""The authority's return: tables with known counts, warnings, and the submission workflow."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from registers.models import AuditEvent
from reporting import services
from reporting.models import AuthorityReturn
from tests.reporting.conftest import build_return

pytestmark = pytest.mark.django_db


def cells(ret, key):
    table = next(t for t in ret.tables if t["key"] == key)
    return {
        row[0]: dict(zip([c[0] for c in table["columns"]], values, strict=True))
        for row, values in zip(table["rows"], table["cells"], strict=True)
    }


def test_return_tables_count_the_hand_built_register(known_register, authority):
    ret = build_return(authority)
    assert {k: v["people"] for k, v in cells(ret, "category").items()} == {
        "urgent": 5,
        "enhanced_monitoring": 3,
        "appropriate_out_of_area": 2,
    }
    assert {k: v["people"] for k, v in cells(ret, "urgent_reason").items()} == {
        "in_hospital": 2,
        "inappropriate_out_of_area": 1,
        "at_risk_of_breakdown": 2,
    }
    assert cells(ret, "delayed_discharge")["delayed"]["people"] == 1
    assert cells(ret, "category_by_sex")["urgent"] == {"male": 3, "female": 2, "not_known": 0}
    assert cells(ret, "category_by_age")["enhanced_monitoring"]["35-44"] == 3
    assert cells(ret, "hospital_stay")["1-2y"]["ld_inpatient"] == 2
    assert cells(ret, "delays")["1-3m"]["accommodation"] == 1
    assert cells(ret, "out_of_area")["other_scottish_ia"] == {"appropriate": 2, "inappropriate": 0}
    assert cells(ret, "out_of_area")["england"] == {"appropriate": 0, "inappropriate": 1}
    movement = {k: v["people"] for k, v in cells(ret, "movement").items()}
    assert (movement["added"], movement["left_died"]) == (1, 1)


def test_people_in_transition_are_kept_out_of_the_tables_but_counted(known_register, authority):
    ret = build_return(authority)
    assert ret.in_transition == 1
    assert sum(v["people"] for v in cells(ret, "category").values()) == 10


def test_return_lists_data_quality_warnings_as_counts(known_register, authority):
    ret = build_return(authority)
    assert {w["code"]: w["count"] for w in ret.warnings} == {"review_overdue": 1}


def test_submitting_locks_the_return_and_is_audited(known_register, authority, lead):
    ret = services.submit_return(lead, build_return(authority))
    assert ret.status == "submitted"
    assert AuditEvent.objects.filter(action="return.submitted", object_id=str(ret.pk)).exists()
    with pytest.raises(ValidationError, match="cannot be rebuilt"):
        services.request_job(
            lead, kind="authority_return", authority=authority, census_date=ret.census_date
        )


def test_the_database_refuses_to_change_a_submitted_returns_tables(known_register, authority, lead):
    ret = services.submit_return(lead, build_return(authority))
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
        AuthorityReturn.objects.filter(pk=ret.pk).update(tables=[])


def test_only_the_lead_submits(known_register, authority, practitioner):
    ret = build_return(authority)
    with pytest.raises(Exception, match="lead"):
        services.submit_return(practitioner, ret)
    ret.refresh_from_db()
    assert ret.status == "draft"


def test_the_national_team_accepts_a_submitted_return(known_register, authority, lead, analyst):
    ret = services.submit_return(lead, build_return(authority))
    ret = services.accept_return(analyst, ret)
    assert (ret.status, ret.decided_by) == ("accepted", analyst)
    assert AuditEvent.objects.filter(action="return.accepted", authority=authority).exists()


def test_a_sent_back_return_needs_a_comment_and_can_be_rebuilt_and_resubmitted(
    known_register, authority, lead, analyst
):
    ret = services.submit_return(lead, build_return(authority))
    with pytest.raises(ValidationError, match="correct"):
        services.send_back_return(analyst, ret, comment=" ")
    ret = services.send_back_return(analyst, ret, comment="Two reviews overdue: please check")
    assert ret.status == "returned"
    rebuilt = build_return(authority)
    assert (rebuilt.pk, rebuilt.status, rebuilt.comment) == (ret.pk, "draft", ret.comment)
    assert services.submit_return(lead, rebuilt).status == "submitted"


def test_staff_cannot_accept_returns(known_register, authority, lead):
    ret = services.submit_return(lead, build_return(authority))
    with pytest.raises(Exception, match="No such page"):
        services.accept_return(lead, ret)
