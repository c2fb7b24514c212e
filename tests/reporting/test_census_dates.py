"""Census dates: the last Thursday of each quarter's final month."""

import datetime as dt

import pytest

from reporting.census import (
    census_date_for,
    census_dates_between,
    is_census_date,
    latest_census_date,
    previous_census_date,
    recent_census_dates,
)

PHS_CENSUSES = [
    dt.date(2023, 12, 28),
    dt.date(2024, 3, 28),
    dt.date(2024, 6, 27),
    dt.date(2024, 9, 26),
    dt.date(2024, 12, 26),
    dt.date(2025, 3, 27),
    dt.date(2025, 6, 26),
    dt.date(2025, 9, 25),
]


def test_census_dates_match_public_health_scotlands_published_censuses():
    found = list(census_dates_between(dt.date(2023, 10, 1), dt.date(2025, 10, 31)))
    assert found == PHS_CENSUSES


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2022,
            [
                dt.date(2022, 3, 31),
                dt.date(2022, 6, 30),
                dt.date(2022, 9, 29),
                dt.date(2022, 12, 29),
            ],
        ),
        (
            2026,
            [
                dt.date(2026, 3, 26),
                dt.date(2026, 6, 25),
                dt.date(2026, 9, 24),
                dt.date(2026, 12, 31),
            ],
        ),
        (
            2027,
            [
                dt.date(2027, 3, 25),
                dt.date(2027, 6, 24),
                dt.date(2027, 9, 30),
                dt.date(2027, 12, 30),
            ],
        ),
    ],
)
def test_every_census_date_is_the_last_thursday_of_the_quarter(year, expected):
    dates = [census_date_for(year, month) for month in (3, 6, 9, 12)]
    assert dates == expected
    assert all(d.weekday() == 3 and (d + dt.timedelta(days=7)).month != d.month for d in dates)


def test_only_quarter_end_months_have_a_census():
    with pytest.raises(ValueError, match="Census months"):
        census_date_for(2025, 4)


def test_latest_and_previous_census_dates_step_through_quarters():
    assert latest_census_date(dt.date(2025, 9, 25)) == dt.date(2025, 9, 25)
    assert latest_census_date(dt.date(2025, 9, 24)) == dt.date(2025, 6, 26)
    assert previous_census_date(dt.date(2024, 3, 28)) == dt.date(2023, 12, 28)
    assert recent_census_dates(dt.date(2025, 10, 1), 3) == PHS_CENSUSES[:-4:-1]


def test_a_thursday_that_is_not_the_last_of_the_month_is_not_a_census_date():
    assert is_census_date(dt.date(2025, 9, 25))
    assert not is_census_date(dt.date(2025, 9, 18))
    assert not is_census_date(dt.date(2025, 8, 28))
