"""The dashboard's trend ends today, and says so: today is not labelled as a month end."""

import calendar

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_the_last_point_of_the_trend_is_labelled_today(client, lead, person):
    client.force_login(lead)
    response = client.get("/register/dashboard/")
    trend = response.context["trend"]
    today = timezone.localdate()
    assert trend[-1].month_end == today and trend[-1].is_today
    assert not any(point.is_today for point in trend[:-1])
    for point in trend[:-1]:
        assert (
            point.month_end.day
            == calendar.monthrange(point.month_end.year, point.month_end.month)[1]
        )
    body = response.content.decode()
    assert f"Today ({today:%-d %b %Y})" in body
    assert '<th scope="col">Date</th>' in body
    assert response.context["chart"]["labels"][-1][1] == "Today"
    assert "Today" not in [label for _, label in response.context["chart"]["labels"][:-1]]
