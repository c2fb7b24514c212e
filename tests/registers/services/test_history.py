"""The history is append-only and in order."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from registers import services
from registers.models import StatusChange

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _as_role(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('role', %s, true)", [role])


def test_history_rows_cannot_be_rewritten_by_the_role_that_serves_requests(practitioner, person):
    services.update_person_details(practitioner, person, version=1, key_worker_name="Sam")

    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        _as_role("dsr_app")
        StatusChange.objects.update(reason="rewritten")
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        _as_role("dsr_app")
        StatusChange.objects.all().delete()
    assert not StatusChange.objects.filter(reason="rewritten").exists()


def test_history_rows_cannot_be_rewritten_even_by_the_cross_tenant_role(practitioner, person):
    """Retention (as the cross-tenant role) may blank an entry's free text; nothing else."""
    services.update_person_details(practitioner, person, version=1, key_worker_name="Sam")

    # Only the free-text columns are granted to it, and no DELETE at all.
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        StatusChange.objects.update(new_category="urgent")
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        StatusChange.objects.all().delete()


def test_changes_cannot_be_slotted_in_before_the_last_recorded_change(practitioner, person):
    services.record_status_change(
        practitioner,
        person,
        version=1,
        category="enhanced_monitoring",
        risk_rating="amber",
        reason="Rising risk",
    )
    earlier = TODAY - dt.timedelta(days=3)
    with pytest.raises(ValidationError) as caught:
        services.record_status_change(
            practitioner,
            person,
            version=2,
            effective_date=earlier,
            category="enhanced_monitoring",
            risk_rating="red",
            reason="Late entry",
        )
    assert "last recorded change" in caught.value.message_dict["effective_date"][0]
    with pytest.raises(ValidationError) as caught:
        services.remove_from_register(
            practitioner, person, version=2, date_left=earlier, leaving_reason="died"
        )
    assert "last recorded change" in caught.value.message_dict["date_left"][0]
