"""The person page's timeline says each entry in words worked out in Python (registers/timeline.py)
and writes dates without Django's format parser (registers/labels.py).

The property: for any history, the timeline is the same HTML as the template that worked it all
out with filters wrote, kept here as it was; and any date or moment reads as Django's `date` filter
writes it in the named formats.
"""

import datetime as dt
import zoneinfo

from django.template import engines, loader
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import User
from registers import labels
from registers.codes import Category, ChangeKind, RiskFactor, RiskRating, UrgentReason
from registers.models import StatusChange
from registers.timeline import timeline

# The timeline before registers/timeline.py.
SLOW_TIMELINE = """{% load dsr %}<section id="timeline" aria-labelledby="timeline-title"{% if oob_timeline %} hx-swap-oob="true"{% endif %}>
<h2 id="timeline-title">Timeline</h2>
<ol class="dsr-timeline" aria-labelledby="timeline-title">
{% for change in history %}
  <li class="dsr-timeline__item">
    <h3 class="ds_h4 ds_no-margin">{{ change.get_kind_display }} <span class="dsr-caption">effective {{ change.effective_date|date:"SHORT_DATE_FORMAT" }}</span></h3>
    <p class="ds_no-margin dsr-caption">by {{ change.changed_by|default:"the system" }} on {{ change.changed_at|date:"SHORT_DATETIME_FORMAT" }}</p>
    {% if change.category_changed %}<p class="ds_no-margin">Category: {{ change.get_old_category_display|default:"none" }}{% if change.old_urgent_reason %} ({{ change.get_old_urgent_reason_display|lower }}){% endif %} to {{ change.get_new_category_display }}{% if change.new_urgent_reason %} ({{ change.get_new_urgent_reason_display|lower }}){% endif %}</p>{% endif %}
    {% if change.old_risk_rating != change.new_risk_rating %}<p class="ds_no-margin">Risk of breakdown: {{ change.old_risk_rating|default:"none"|title }} to {{ change.new_risk_rating|default:"none"|title }}</p>{% endif %}
    {% if change.reason %}<p class="ds_no-margin">Why: {{ change.reason }}</p>{% endif %}
    {% if change.kind != "added" %}{% with lines=change.changes|change_lines:locality_names %}{% if lines %}
    <ul class="dsr-changes">{% for label, old, new in lines %}<li>{{ label }}: {{ old }} to {{ new }}</li>{% endfor %}</ul>
    {% endif %}{% endwith %}{% endif %}
  </li>
{% endfor %}
</ol>
</section>
"""  # noqa: E501

LONDON = zoneinfo.ZoneInfo("Europe/London")
dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(2100, 12, 31))
moments = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)
text = st.text(alphabet="ab <>&\"'é\n", max_size=8)
users = st.none() | st.builds(
    User,
    first_name=text,
    last_name=text,
    email=st.sampled_from(["a@example.org", ""]),
    username=st.sampled_from(["someone", ""]),
)


def codes_of(choices, *, blank=True):
    values = [value for value, _ in choices.choices] + ["retired_code"]
    return st.sampled_from(values + ([""] if blank else []))


# What each kind of field keeps in an entry's changes ([old, new]), a retired field among them.
FIELD_VALUES = {
    "key_worker_name": st.none() | text,
    "next_review_due": st.none() | dates.map(dt.date.isoformat),
    "date_left": st.none() | dates.map(dt.date.isoformat),
    "risk_factors": st.lists(codes_of(RiskFactor, blank=False), max_size=2),
    "locality_id": st.none() | st.integers(1, 3),
    "hospital_in_area": st.none() | st.booleans(),
    "hospital_type": st.none() | st.sampled_from(["", "general", "retired_code"]),
    "host_area": st.none() | st.sampled_from(["", "S37000032", "S37000014", "england", "X"]),
    "version": st.integers(1, 9),
    "category": codes_of(Category),
    "no_longer_a_field": st.none() | text | st.integers(),
}
changed_fields = st.lists(st.sampled_from(sorted(FIELD_VALUES)), unique=True, max_size=4).flatmap(
    lambda names: st.fixed_dictionaries(
        {name: st.lists(FIELD_VALUES[name], min_size=2, max_size=2) for name in names}
    )
)
changes = st.builds(
    StatusChange,
    kind=codes_of(ChangeKind, blank=False),
    changed_by=users,
    changed_at=moments,
    effective_date=dates,
    old_category=codes_of(Category),
    new_category=codes_of(Category, blank=False),
    old_urgent_reason=codes_of(UrgentReason),
    new_urgent_reason=codes_of(UrgentReason),
    old_risk_rating=codes_of(RiskRating),
    new_risk_rating=codes_of(RiskRating),
    reason=text,
    changes=changed_fields,
)


@settings(max_examples=300, deadline=None)
@given(
    history=st.lists(changes, max_size=4),
    locality_names=st.sampled_from([{}, {1: "Nithsdale", 2: "Stewart<ry>"}]),
    oob=st.booleans(),
)
def test_the_timeline_reads_as_the_filters_wrote_it(history, locality_names, oob):
    slow = (
        engines["django"]
        .from_string(SLOW_TIMELINE)
        .render({"history": history, "locality_names": locality_names, "oob_timeline": oob})
    )
    fast = loader.get_template("registers/_timeline.html").render(
        {"timeline": timeline(history, locality_names), "oob_timeline": oob}
    )
    assert fast == slow


@settings(max_examples=300, deadline=None)
@given(day=dates, moment=moments)
def test_dates_read_as_the_date_filter_writes_them(day, moment):
    assert labels.display_date(day) == date_filter(day)
    assert labels.display_date(day, short=True) == date_filter(day, "SHORT_DATE_FORMAT")
    with timezone.override(LONDON):
        local = timezone.localtime(moment)
        assert labels.display_datetime(moment) == date_filter(local, "SHORT_DATETIME_FORMAT")
    naive = moment.replace(tzinfo=None)
    assert labels.display_datetime(naive) == date_filter(naive, "SHORT_DATETIME_FORMAT")
