"""Updating a person's details: what changed is recorded; the register status is not a detail."""

import pytest
from django.core.exceptions import ValidationError

from registers import services

pytestmark = pytest.mark.django_db


def test_updating_details_records_what_changed(practitioner, person):
    services.update_person_details(
        practitioner, person, version=1, key_worker_name="Sam Reid", preferred_name="Mo"
    )
    change = person.status_changes.get()
    assert change.kind == "details"
    assert change.changes["key_worker_name"] == ["", "Sam Reid"]
    assert change.changes["preferred_name"] == ["", "Mo"]


def test_details_update_cannot_change_the_register_status(practitioner, person):
    with pytest.raises(ValidationError):
        services.update_person_details(practitioner, person, version=1, category="urgent")
