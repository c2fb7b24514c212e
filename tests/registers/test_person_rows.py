"""The register list's rows worked out and written in Python (registers/rows.py) are the same HTML
as the row template made when it asked each person itself, kept here as the slow way; and the
short date formatter equals Django's."""

from __future__ import annotations

import datetime as dt

from django.template import engines
from django.test import RequestFactory
from django.utils import formats, timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from registers.access import Scope
from registers.codes import Category, RiskRating, UrgentReason
from registers.labels import short_date_formatter
from registers.models import Locality, Person
from registers.rows import person_rows, row_values

# The row template before registers/rows.py, word for word.
SLOW_ROW = """{% load access dsr %}<tr id="person-{{ person.pk }}"{% if updated %} class="dsr-updated" tabindex="-1" data-announce="{{ updated }}"{% endif %}>
  <td><a href="{% url 'registers:person_detail' person.pk %}">{{ person.display_name }}</a>{% if updated %} <strong class="ds_tag ds_tag--green">Updated</strong>{% endif %}</td>
  <td class="dsr-nowrap">{{ person.date_of_birth|date:"SHORT_DATE_FORMAT" }} <span class="dsr-muted">(age {{ person.age }})</span></td>
  <td class="dsr-nowrap">{{ person.local_reference }}</td>
  <td>{{ person.locality.name }}</td>
  <td>{{ person.get_category_display }}{% if person.urgent_reason %}: {{ person.get_urgent_reason_display|lower }}{% endif %}</td>
  <td>{% if person.risk_rating %}<span class="dsr-rag dsr-rag--{{ person.risk_rating }}">{{ person.risk_rating|title }}</span>{% else %}<span class="dsr-muted">In hospital</span>{% endif %}</td>
  <td>{{ person.next_review_due|date:"SHORT_DATE_FORMAT"|default:"-" }}{% if person.next_review_due and person.next_review_due < today %} <strong class="ds_tag ds_tag--red">Overdue</strong>{% endif %}</td>
  <td class="dsr-col-actions">{% if person|writable_by:dsr_scope %}<a href="{% url 'registers:person_quick_status' person.pk %}?from=list&amp;next={{ request.get_full_path|urlencode }}" hx-get="{% url 'registers:person_quick_status' person.pk %}?from=list" hx-target="closest tr" hx-swap="outerHTML">Update status<span class="visually-hidden"> for {{ person.display_name }}</span></a>{% endif %}</td>
</tr>
"""  # noqa: E501


def _years_before(years: int) -> dt.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today - dt.timedelta(days=365 * years)


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
# Around today too: the overdue mark and the age turn over there.
near_today = st.builds(
    lambda years, days: _years_before(years) + dt.timedelta(days=days),
    st.integers(0, 90),
    st.integers(-2, 2),
)
text = st.text(alphabet=st.sampled_from("aZ &<>\"'é-"), max_size=12)


@st.composite
def people(draw) -> Person:
    category = draw(st.sampled_from(Category.values))
    reason = draw(st.sampled_from(UrgentReason.values)) if category == Category.URGENT else None
    return Person(
        pk=draw(st.integers(1, 10**7)),
        authority_id=draw(st.integers(1, 3)),
        locality=Locality(pk=draw(st.integers(1, 6)), name=draw(text)),
        given_name=draw(text),
        family_name=draw(text),
        preferred_name=draw(st.one_of(st.just(""), text)),
        date_of_birth=draw(st.one_of(dates, near_today)),
        local_reference=draw(text),
        category=category,
        urgent_reason=reason,
        risk_rating=draw(st.one_of(st.none(), st.sampled_from(RiskRating.values))),
        next_review_due=draw(st.one_of(st.none(), dates, near_today)),
    )


scopes = st.builds(
    Scope,
    user_id=st.just(1),
    roles=st.dictionaries(st.integers(1, 3), st.sampled_from(["lead", "practitioner", "viewer"])),
    write_localities=st.frozensets(st.integers(1, 6)),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    person=people(),
    scope=scopes,
    path=st.sampled_from(["/register/", "/register/?q=a b&sort=review", "/register/?page=2"]),
    updated=st.sampled_from(["", "Status updated for A <B>."]),
)
def test_a_row_prints_as_the_template_did(person, scope, path, updated):
    request = RequestFactory().get(path)
    today = timezone.localdate()
    slow = (
        engines["django"]
        .from_string(SLOW_ROW)
        .render(
            {
                "person": person,
                "today": today,
                "dsr_scope": scope,
                "updated": updated,
                "request": request,
            }
        )
    )
    user = User(pk=scope.user_id, is_active=True)
    user._dsr_scope = scope  # the scope the request read (registers.access.scope_for)
    [row] = person_rows(
        [row_values(person)], user=user, today=today, list_path=request.get_full_path()
    )
    assert row.html(updated) == slow


@given(day=dates)
def test_short_dates_as_django_formats_them(day):
    with translation.override("en-gb"):
        assert short_date_formatter()(day) == formats.date_format(day, "SHORT_DATE_FORMAT")
    assert short_date_formatter()(None) == ""
