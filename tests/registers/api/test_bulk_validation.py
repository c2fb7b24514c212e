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

GOOD: dict[str, list[Any]] = {
    "locality": [7, "7", 8],
    "local_reference": ["CMS-1", " CMS-2 ", "X" * 51],
    "given_name": ["Morag", "", "M" * 101],
    "family_name": ["Campbell"],
    "date_of_birth": ["1988-03-14", "1988-02-30", "14/03/1988"],
    "sex": ["female", "male", "unknown"],
    "chi_number": ["1403881234", None, "", "12345678901"],
    "category": ["urgent", "enhanced_monitoring", "not_a_category"],
    "urgent_reason": ["at_risk_of_breakdown", "in_hospital", None],
    "risk_rating": ["red", "amber", "green", None, "purple"],
    "risk_factors": [["provider_notice"], [], ["nonsense"], "provider_notice"],
    "referral_source": ["social_work", "elsewhere"],
    "key_worker_name": ["Iain", "", "K" * 201],
    "next_review_due": ["2027-01-01", "soon"],
    "hospital_in_area": [True, "yes", "maybe"],
    "admission_date": ["2026-01-01"],
    "reason": ["Provider has given notice", "", "R" * 2001],
    "effective_date": ["2026-01-01", "yesterday"],
    "confirm_chi_mismatch": [True, False, "true", "perhaps"],
    "version": [1, 3, 0, -1, "2", "two", 1.5],
    # read-only fields are accepted and ignored; unknown ones are refused
    "id": [12],
    "in_transition": [True],
    "keyworker_name": ["Iain"],
}
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
def items(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(GOOD)), unique=True, max_size=12))
    return {
        name: draw(st.one_of(st.sampled_from(GOOD[name]), JUNK) if draw(st.booleans()) else JUNK)
        if draw(st.integers(0, 4)) == 0
        else draw(st.sampled_from(GOOD[name]))
        for name in names
    }


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
