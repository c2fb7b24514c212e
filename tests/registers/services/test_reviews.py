"""Reviews: recorded with the next date, attendees and outcome; no next date in the past."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from registers import services
from registers.models import Review

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def test_recording_a_review_sets_the_next_review_and_history(practitioner, person):
    review = services.record_review(
        practitioner,
        person,
        version=1,
        review_date=TODAY,
        attendees="Key worker, sister",
        outcome="Stable",
        next_review_due=TODAY + dt.timedelta(days=60),
    )
    person.refresh_from_db()
    assert Review.objects.get() == review
    assert person.next_review_due == TODAY + dt.timedelta(days=60)
    assert person.status_changes.get().kind == "review_recorded"


def test_a_review_needs_attendees_an_outcome_and_a_later_next_date(practitioner, person):
    with pytest.raises(ValidationError) as caught:
        services.record_review(
            practitioner,
            person,
            version=1,
            review_date=TODAY,
            attendees="",
            outcome="",
            next_review_due=TODAY,
        )
    assert set(caught.value.message_dict) == {"attendees", "outcome", "next_review_due"}
    assert not Review.objects.exists()


def test_scheduling_a_review_in_the_past_is_refused(practitioner, person):
    with pytest.raises(ValidationError):
        services.schedule_review(practitioner, person, version=1, due=TODAY - dt.timedelta(days=1))
