"""The reviews due page: overdue and soon-due people only."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_reviews_due_lists_overdue_and_soon_due_people_only(client, lead, nithsdale):
    today = timezone.localdate()
    overdue = PersonFactory(locality=nithsdale, next_review_due=today - dt.timedelta(days=1))
    soon = PersonFactory(locality=nithsdale, next_review_due=today + dt.timedelta(days=7))
    later = PersonFactory(locality=nithsdale, next_review_due=today + dt.timedelta(days=90))
    client.force_login(lead)
    response = client.get("/register/reviews/")
    shown = [p.pk for p in response.context["page"].object_list]
    assert shown == [overdue.pk, soon.pk]
    assert later.pk not in shown
    assert "Overdue" in response.content.decode()


@pytest.mark.parametrize("rows", [5, 120])
def test_reviews_due_runs_a_constant_number_of_queries(
    client, lead, nithsdale, rows, django_assert_max_num_queries
):
    today = timezone.localdate()
    PersonFactory.create_batch(rows, locality=nithsdale, next_review_due=today)
    client.force_login(lead)
    with django_assert_max_num_queries(15):
        assert client.get("/register/reviews/").status_code == 200
