"""Retention: people who left long ago are pseudonymised; the history stays append-only."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from registers import access, data_protection
from registers.models import AuditEvent, Person, Review, StatusChange, Transfer
from registers.tasks import pseudonymise_leavers
from reporting.snapshots import reconstruct
from tests.factories import PersonFactory, long_gone

pytestmark = pytest.mark.django_db

CENSUS_2016 = dt.date(2016, 9, 29)


def census_rows(authority):
    rows = reconstruct(authority.pk, CENSUS_2016).rows
    return [
        {k: v for k, v in r.items() if k not in ("local_reference", "date_of_birth")} for r in rows
    ]


def test_people_who_left_more_than_the_retention_period_ago_are_pseudonymised(
    lead, authority, nithsdale, other_authority
):
    person = long_gone(lead, nithsdale)
    Transfer.objects.create(
        authority=authority,
        to_authority=other_authority,
        person=person,
        status="declined",
        decided_at=dt.datetime(2017, 1, 1, tzinfo=dt.UTC),
        reason="Moving near her sister Isla",
        decision_note="No placement for Catriona",
        summary={"name": "Catriona MacLeod", "chi_number": person.chi_number, "sex": "Female"},
    )
    states = list(
        StatusChange.objects.filter(person=person).order_by("id").values_list("state", flat=True)
    )

    assert pseudonymise_leavers() == 1  # the Celery beat task

    person.refresh_from_db()
    assert person.given_name == "Pseudonymised"
    assert person.family_name == f"person {person.pk}"
    assert (person.preferred_name, person.chi_number) == ("", None)
    assert person.local_reference == f"PSEUDONYMISED-{person.pk}"
    assert person.date_of_birth == dt.date(1980, 3, 1)
    assert (person.key_worker_name, person.key_worker_contact) == ("", "")
    assert person.pseudonymised_at is not None
    # What the census reads is kept.
    assert (person.sex, person.category, person.date_left) == (
        "female",
        "urgent",
        dt.date(2017, 6, 30),
    )
    history = list(StatusChange.objects.filter(person=person).order_by("id"))
    assert [c.state for c in history] == states
    assert {c.reason for c in history} <= {"[removed]", ""}
    details = next(c for c in history if c.kind == "details")
    assert details.changes == {
        "family_name": ["[removed]", "[removed]"],
        "risk_rating": ["amber", "red"],
    }
    review = Review.objects.get(person=person)
    assert (review.attendees, review.outcome, review.actions) == ("[removed]", "[removed]", "")
    transfer = Transfer.objects.get(person=person)
    assert transfer.summary == {"name": "[removed]", "chi_number": "[removed]", "sex": "Female"}
    assert (transfer.reason, transfer.decision_note) == ("[removed]", "[removed]")
    event = AuditEvent.objects.get(action="person.pseudonymised")
    assert (event.object_id, event.actor_label) == (str(person.pk), "system")
    assert AuditEvent.objects.filter(
        action="system_scope", changes__reason__startswith="retention:"
    ).exists()


def test_pseudonymisation_leaves_past_census_figures_as_they_were(lead, authority, nithsdale):
    long_gone(lead, nithsdale)
    before = census_rows(authority)
    assert len(before) == 1 and before[0]["age"] == 36
    data_protection.pseudonymise_leavers()
    assert census_rows(authority) == before


def test_pseudonymisation_runs_once_per_person(lead, nithsdale):
    person = long_gone(lead, nithsdale)
    data_protection.pseudonymise_leavers()
    person.refresh_from_db()
    assert data_protection.pseudonymise_leavers() == []
    assert Person.objects.get(pk=person.pk).version == person.version
    assert AuditEvent.objects.filter(action="person.pseudonymised").count() == 1


def test_people_within_the_retention_period_and_on_the_register_are_untouched(
    lead, nithsdale, settings
):
    today = dt.date.today()
    recent = long_gone(lead, nithsdale, left=today.replace(year=today.year - 6), ref="RECENT")
    staying = PersonFactory(locality=nithsdale, date_added=dt.date(2010, 1, 1))
    assert data_protection.pseudonymise_leavers() == []
    settings.DSR_RETENTION_YEARS = 5
    assert data_protection.pseudonymise_leavers() == [recent.pk]
    staying.refresh_from_db()
    assert staying.pseudonymised_at is None


def test_the_retention_period_is_a_setting_with_a_scheduled_task():
    assert settings.DSR_RETENTION_YEARS == 7
    schedule = settings.CELERY_BEAT_SCHEDULE["retention-pseudonymise-leavers"]
    assert schedule["task"] == "registers.tasks.pseudonymise_leavers"
    assert data_protection.retention_cutoff(dt.date(2024, 2, 29)) == dt.date(2017, 2, 28)


def test_the_management_command_counts_and_pseudonymises(lead, nithsdale):
    long_gone(lead, nithsdale)
    out = io.StringIO()
    call_command("pseudonymise_leavers", "--dry-run", stdout=out)
    assert out.getvalue().startswith("1 people left before")
    assert Person.objects.filter(pseudonymised_at__isnull=True).count() == 1
    call_command("pseudonymise_leavers", stdout=out)
    assert "Pseudonymised 1 people" in out.getvalue()
    assert Person.objects.filter(pseudonymised_at__isnull=True).count() == 0


def _try(sql: str, params: list, *, pseudonymise: bool) -> None:
    """As the system role (which retention runs as), or else as the runtime role."""
    role = "dsr_system" if pseudonymise else "dsr_app"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('role', %s, true)", [role])
        cursor.execute(sql, params)


def test_an_ordinary_update_of_history_is_still_refused(lead, nithsdale):
    change = StatusChange.objects.filter(person=long_gone(lead, nithsdale)).first()
    with pytest.raises(DatabaseError, match="permission denied"):
        _try(
            "UPDATE registers_statuschange SET reason = 'x' WHERE id = %s",
            [change.pk],
            pseudonymise=False,
        )


def test_the_system_role_may_change_only_the_free_text_of_history(lead, nithsdale):
    change = StatusChange.objects.filter(person=long_gone(lead, nithsdale)).first()
    for column, value in (
        ("new_category", "'appropriate_out_of_area'"),
        ("state", "'{}'::jsonb"),
        ("effective_date", "'2010-01-01'"),
    ):
        with pytest.raises(DatabaseError, match=r"permission denied|append-only"):
            _try(
                f"UPDATE registers_statuschange SET {column} = {value} WHERE id = %s",
                [change.pk],
                pseudonymise=True,
            )
    with pytest.raises(DatabaseError, match=r"permission denied|append-only"):
        _try("DELETE FROM registers_statuschange WHERE id = %s", [change.pk], pseudonymise=True)
    _try(
        "UPDATE registers_statuschange SET reason = '[removed]' WHERE id = %s",
        [change.pk],
        pseudonymise=True,
    )
    change.refresh_from_db()
    assert change.reason == "[removed]"


def test_the_old_pseudonymisation_setting_opens_nothing_to_the_runtime_role(lead, nithsdale):
    change = StatusChange.objects.filter(person=long_gone(lead, nithsdale)).first()
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        access.using_scope(access.scope_for(lead)),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT set_config('dsr.scope', 'system', true)")
        cursor.execute("SELECT set_config('dsr.pseudonymise', 'on', true)")
        cursor.execute("UPDATE registers_statuschange SET reason = '' WHERE id = %s", [change.pk])
