"""A bulk request's items are checked by one serializer reused for every item
(`validate_bulk_items`); each item must get exactly what a serializer of its own would answer:
the same errors (messages and codes) and the same validated data, whatever came before it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ErrorDetail

from registers.api.serializers import BulkPersonSerializer, validate_bulk_items
from registers.models import Locality

LOCALITY = Locality(id=7, authority_id=1, name="Nithsdale")
CONTEXT: dict[str, Any] = {"api_client": None, "localities": {7: LOCALITY}, "request": None}

# Values each field accepts, and values it refuses, by field.
VALID: dict[str, list[Any]] = {
    "locality": [7, "7"],
    "local_reference": ["CMS-1", " CMS-2 ", "X" * 50],
    "given_name": ["Morag", " Zoë "],
    "family_name": ["Campbell", "O'Neil"],
    "preferred_name": ["", "Mo"],
    "date_of_birth": ["1988-03-14", "2001-12-31"],
    "sex": ["female", "male", "not_known"],
    "chi_number": ["1403881234", None, "", "14 03 88 1234"],
    "category": ["urgent", "enhanced_monitoring"],
    "urgent_reason": ["at_risk_of_breakdown", "in_hospital", None],
    "risk_rating": ["red", "amber", "green", None],
    "risk_factors": [["provider_notice"], [], ["provider_notice", "mental_health"]],
    "referral_source": ["social_work"],
    "key_worker_name": ["Iain", "", "K" * 200],
    "key_worker_contact": ["01387 123456"],
    "guardianship_or_poa": [True, False, "true", 0],
    "next_review_due": ["2027-01-01"],
    "hospital_name": ["Crichton Royal", ""],
    "hospital_in_area": [True, None],
    "admission_date": ["2026-01-01", None],
    "host_area": ["S37000005", None],
    "reason": ["Provider has given notice", "", "R" * 2000],
    "effective_date": ["2026-01-01"],
    "confirm_chi_mismatch": [True, False, "true"],
    "version": [1, 3, "2"],
    # read-only fields are accepted and ignored
    "id": [12, "x"],
    "in_transition": [True],
    "authority": ["S37000006"],
}
INVALID: dict[str, list[Any]] = {
    "locality": [8, "seven", True],
    "local_reference": ["X" * 51, "", None, "A\x00B"],
    "given_name": ["M" * 101, None],
    "date_of_birth": ["1988-02-30", "14/03/1988", 1988],
    "sex": ["unknown"],
    "chi_number": ["12345678901"],
    "category": ["not_a_category", None],
    "risk_rating": ["purple"],
    "risk_factors": [["nonsense"], "provider_notice", None],
    "key_worker_name": ["K" * 201, ["Iain"]],
    "guardianship_or_poa": ["maybe", None],
    "next_review_due": ["soon"],
    "hospital_in_area": ["perhaps"],
    "reason": ["R" * 2001, None],
    "effective_date": ["yesterday", None],
    "confirm_chi_mismatch": ["perhaps", None],
    "version": [0, -1, "two", 1.5, None],
    "keyworker_name": ["Iain"],  # unknown field
}
NAMES = sorted(VALID.keys() | INVALID.keys())
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.text(max_size=5),
    st.lists(st.integers(0, 2), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.just(dt.date(2026, 1, 1).isoformat()),
)


@st.composite
def value(draw: st.DrawFn, name: str) -> Any:
    roll = draw(st.integers(0, 19))
    if roll < 17 and name in VALID:
        return draw(st.sampled_from(VALID[name]))
    if roll < 19 and name in INVALID:
        return draw(st.sampled_from(INVALID[name]))
    return draw(JUNK)


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=12))
    return {name: draw(value(name)) for name in names}


def _plain(value: Any) -> Any:
    """Errors with each message's code, to compare them exactly."""
    if isinstance(value, ErrorDetail):
        return (str(value), value.code)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _one_serializer_each(raws: list[Any]) -> tuple[list[tuple[int, Any]], dict[int, Any]]:
    valid, errors = [], {}
    for index, raw in enumerate(raws):
        serializer = BulkPersonSerializer(data=raw, context=CONTEXT)
        if serializer.is_valid():
            valid.append((index, dict(serializer.validated_data)))
        else:
            errors[index] = serializer.errors
    return valid, errors


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items(), min_size=1, max_size=6))
def test_one_serializer_for_every_item_answers_as_one_serializer_each(raws):
    expected_valid, expected_errors = _one_serializer_each(raws)
    valid, errors = validate_bulk_items(raws, CONTEXT)
    assert valid == expected_valid
    assert _plain(errors) == _plain(expected_errors)


def test_the_examples_cover_valid_and_invalid_items():
    valid, errors = validate_bulk_items(
        [
            {"local_reference": "CMS-1", "version": 2, "key_worker_name": "Iain"},
            {"local_reference": "CMS-2", "version": "two", "keyworker_name": "Iain"},
            {"local_reference": "X" * 51, "version": 1},
        ],
        CONTEXT,
    )
    assert [index for index, _ in valid] == [0]
    assert set(errors) == {1, 2}
    assert set(errors[1]) == {"version", "keyworker_name"}
    assert set(errors[2]) == {"local_reference"}
