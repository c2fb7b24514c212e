"""`|day` and `|short_day` (registers/templatetags/dsr.py) write what `|date` and
`|date:"SHORT_DATE_FORMAT"` write, for dates, moments and nothing."""

import datetime as dt
import zoneinfo

from django.template import engines
from hypothesis import given
from hypothesis import strategies as st

FAST = engines["django"].from_string("{% load dsr %}[{{ v|day }}][{{ v|short_day }}]")
SLOW = engines["django"].from_string('[{{ v|date }}][{{ v|date:"SHORT_DATE_FORMAT" }}]')
values = (
    st.dates()
    | st.datetimes(timezones=st.just(dt.UTC) | st.just(zoneinfo.ZoneInfo("Europe/London")))
    | st.datetimes()
    | st.sampled_from([None, "", "not a date"])
)


@given(value=values)
def test_day_filters_write_what_the_date_filter_writes(value: object) -> None:
    assert FAST.render({"v": value}) == SLOW.render({"v": value})
