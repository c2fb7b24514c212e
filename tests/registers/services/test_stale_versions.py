"""Every change names the version it was made from; a stale one changes nothing."""

import pytest
from django.utils import timezone

from registers import services
from registers.models import Person

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def test_a_stale_version_is_refused_and_changes_nothing(practitioner, person):
    services.record_status_change(
        practitioner,
        person,
        version=1,
        category="enhanced_monitoring",
        risk_rating="amber",
        reason="Rising risk",
    )
    with pytest.raises(services.StaleVersion):
        services.record_status_change(
            practitioner,
            person,
            version=1,
            category="enhanced_monitoring",
            risk_rating="red",
            reason="Written from an old page",
        )
    person.refresh_from_db()
    assert person.risk_rating == "amber"
    assert person.version == 2
    assert person.status_changes.count() == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda actor, p: services.update_person_details(actor, p, version=1, key_worker_name="Sam"),
        lambda actor, p: services.schedule_review(actor, p, version=1, due=TODAY),
        lambda actor, p: services.remove_from_register(
            actor, p, version=1, date_left=TODAY, leaving_reason="died"
        ),
    ],
    ids=["update_details", "schedule_review", "remove"],
)
def test_every_change_refuses_a_stale_version(practitioner, person, call):
    Person.objects.filter(pk=person.pk).update(version=2)
    with pytest.raises(services.StaleVersion):
        call(practitioner, person)
    assert not person.status_changes.exists()
