"""Leaving the register: a reason, and the record is closed."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from registers import services

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def test_leaving_the_register_needs_a_reason_and_closes_the_record(practitioner, person):
    with pytest.raises(ValidationError):
        services.remove_from_register(
            practitioner, person, version=1, date_left=TODAY, leaving_reason="bored"
        )
    services.remove_from_register(
        practitioner,
        person,
        version=1,
        date_left=TODAY,
        leaving_reason="settled_in_community",
        note="Settled well",
    )
    person.refresh_from_db()
    assert person.date_left == TODAY and person.leaving_reason == "settled_in_community"
    with pytest.raises(ValidationError, match="left the register"):
        services.update_person_details(practitioner, person, version=2, key_worker_name="X")
