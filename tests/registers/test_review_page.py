"""Recording a review."""

import datetime as dt

import pytest
from django.utils import timezone

from registers.models import Review

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def test_recording_a_review_sets_the_next_due_date(client, practitioner, person):
    client.force_login(practitioner)
    due = TODAY + dt.timedelta(days=60)
    client.post(
        f"/register/people/{person.pk}/review/",
        {
            "review_date": TODAY.strftime("%d/%m/%Y"),
            "attendees": "Team",
            "outcome": "Settled",
            "next_review_due": due.strftime("%d/%m/%Y"),
            "version": person.version,
        },
    )
    person.refresh_from_db()
    assert person.next_review_due == due
    assert Review.objects.filter(person=person).count() == 1


def test_a_review_in_the_future_is_refused(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/review/",
        {
            "review_date": (TODAY + dt.timedelta(days=3)).strftime("%d/%m/%Y"),
            "attendees": "Team",
            "outcome": "Settled",
            "version": person.version,
        },
    )
    assert "cannot be recorded for a future date" in response.content.decode()
    assert not Review.objects.exists()


def test_today_is_the_default_review_date(client, practitioner, person):
    client.force_login(practitioner)
    body = client.get(f"/register/people/{person.pk}/review/").content.decode()
    today = timezone.localdate()
    for part, value in (("day", today.day), ("month", today.month), ("year", today.year)):
        assert f'name="review_date_{part}" value="{value}"' in body
