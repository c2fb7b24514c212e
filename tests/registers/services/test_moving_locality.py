"""Moving a person to another locality: only one the actor may write to, in the same authority."""

import pytest
from django.core.exceptions import ValidationError

from registers import services

pytestmark = pytest.mark.django_db


def test_moving_locality_needs_write_access_to_the_new_locality(
    practitioner, person, stewartry, lead
):
    with pytest.raises(Exception, match="No such locality"):
        services.move_locality(practitioner, person, version=1, locality=stewartry)
    services.move_locality(lead, person, version=1, locality=stewartry, reason="Moved house")
    person.refresh_from_db()
    assert person.locality == stewartry
    assert person.status_changes.get().kind == "locality"


def test_moving_to_another_authoritys_locality_is_refused(lead, person, leith):
    with pytest.raises(ValidationError):
        services.move_locality(lead, person, version=1, locality=leith)
