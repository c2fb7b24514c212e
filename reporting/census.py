"""Census dates: the last Thursday of March, June, September and December (domain.md)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator

from django.conf import settings

CENSUS_MONTHS = (3, 6, 9, 12)
THURSDAY = 3


def census_date_for(year: int, month: int) -> dt.date:
    """The last Thursday of `month` (a quarter-end month)."""
    if month not in CENSUS_MONTHS:
        raise ValueError("Census months are March, June, September and December.")
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last - dt.timedelta(days=(last.weekday() - THURSDAY) % 7)


def is_census_date(day: dt.date) -> bool:
    return day.month in CENSUS_MONTHS and census_date_for(day.year, day.month) == day


def census_dates_between(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Census dates from `start` to `end` inclusive, oldest first."""
    for year in range(start.year, end.year + 1):
        for month in CENSUS_MONTHS:
            day = census_date_for(year, month)
            if start <= day <= end:
                yield day


def latest_census_date(on: dt.date) -> dt.date:
    """The most recent census date on or before `on`."""
    return previous_census_date(on + dt.timedelta(days=1))


def previous_census_date(day: dt.date) -> dt.date:
    """The census date strictly before `day`."""
    candidates = list(census_dates_between(dt.date(day.year - 1, 1, 1), day - dt.timedelta(days=1)))
    return candidates[-1]


def recent_census_dates(on: dt.date, count: int = 8) -> list[dt.date]:
    """The last `count` census dates up to `on`, newest first."""
    dates = [latest_census_date(on)]
    while len(dates) < count:
        dates.append(previous_census_date(dates[-1]))
    return dates


def return_deadline(census_date: dt.date) -> dt.date:
    return census_date + dt.timedelta(days=settings.DSR_RETURN_DEADLINE_DAYS)
