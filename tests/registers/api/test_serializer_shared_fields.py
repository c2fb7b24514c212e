"""A person's answer is the same whether its serializer built its own fields (DRF's way, still used
for input) or read through the fields its class built once (serializers.ReadFieldsOnce)."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import ForeignKey, GeneratedField
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import from_field

from registers.api.serializers import PersonSerializer, PersonUpsertSerializer
from registers.codes import Category, RiskFactor, Sex
from registers.models import IntegrationAuthority, Person

# Times a record can hold (the extremes of datetime overflow in the local time zone).
TIMES = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)
OWN_STRATEGIES = {
    "id": st.integers(min_value=1, max_value=2**31 - 1),
    "risk_factors": st.lists(st.sampled_from([c.value for c in RiskFactor]), unique=True),
    "version": st.integers(min_value=1, max_value=10_000),
    "created_at": TIMES,
    "updated_at": TIMES,
    "pseudonymised_at": TIMES,
}


def _field_values() -> st.SearchStrategy[dict]:
    strategies = {}
    for field in Person._meta.concrete_fields:
        if isinstance(field, (ForeignKey, GeneratedField)):
            continue
        own = OWN_STRATEGIES.get(field.name)
        strategy = own if own is not None else from_field(field)
        if field.null:
            strategy = st.none() | strategy
        strategies[field.attname] = strategy
    return st.fixed_dictionaries(strategies)


@st.composite
def people(draw: st.DrawFn) -> Person:
    person = Person(**draw(_field_values()))
    person.authority = IntegrationAuthority(
        pk=draw(st.integers(min_value=1, max_value=99)), code="S37000017", name="Glasgow City"
    )
    person.locality_id = draw(st.integers(min_value=1, max_value=10_000))
    return person


@settings(max_examples=150, deadline=None)
@given(person=people())
def test_shared_fields_answer_as_fields_built_for_the_instance(person):
    for serializer_class in (PersonSerializer, PersonUpsertSerializer):
        shared = serializer_class(person, context={})
        built = serializer_class(person, context={})
        assert built.fields  # its own fields, built as DRF builds them
        assert "fields" not in shared.__dict__
        assert shared.data == built.data
        assert list(shared.data) == list(built.data)


ZONES = ["UTC", "Europe/London", "Asia/Kolkata", "America/St_Johns"]
ANY_TIMES = st.datetimes(
    min_value=dt.datetime(1900, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.none() | st.sampled_from([dt.UTC, *map(ZoneInfo, ZONES)]),
)


@settings(max_examples=150, deadline=None)
@given(
    person=people(),
    zone=st.sampled_from(ZONES),
    times=st.tuples(ANY_TIMES, ANY_TIMES),
    members=st.booleans(),
)
def test_plain_columns_written_directly_answer_as_drfs_fields(person, zone, times, members):
    # The writers of text, choice, date and time columns (serializers._plain_writer) give what
    # DRF's fields give: in any current time zone, for naive and aware times, and for a choice
    # set as an enum member rather than read back as text.
    person.created_at, person.updated_at = times
    if members:
        person.category = Category(person.category)
        person.sex = Sex(person.sex)
    with timezone.override(zone):
        shared = PersonSerializer(person, context={})
        built = PersonSerializer(person, context={})
        assert built.fields
        assert shared.data == built.data
