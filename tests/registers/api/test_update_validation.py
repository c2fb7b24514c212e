"""A PATCH body is checked through fields built once per process (`validated_person_changes`);
it must get exactly what a serializer of its own would answer: the same validated data, or the
same errors (messages and codes), whatever bodies came before it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from registers.api.serializers import PersonSerializer, validated_person_changes
from tests.registers.api.test_bulk_validation import CONTEXT, JUNK, _plain, items


def _own_serializer(raw: Any, *, partial: bool) -> tuple[bool, Any]:
    serializer = PersonSerializer(data=raw, partial=partial, context=CONTEXT)
    if serializer.is_valid():
        return True, dict(serializer.validated_data)
    return False, _plain(serializer.errors)


def _shared_fields(raw: Any, *, partial: bool) -> tuple[bool, Any]:
    try:
        return True, validated_person_changes(raw, CONTEXT, partial=partial)
    except ValidationError as exc:
        return False, _plain(exc.detail)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items() | JUNK, min_size=1, max_size=5), st.booleans())
def test_shared_fields_answer_as_a_serializer_of_its_own(bodies, partial):
    for raw in bodies:
        assert _shared_fields(raw, partial=partial) == _own_serializer(raw, partial=partial)


def test_the_examples_cover_valid_and_invalid_bodies():
    assert _shared_fields({"risk_rating": "red", "reason": "Carer unwell"}, partial=True) == (
        True,
        {"risk_rating": "red", "reason": "Carer unwell"},
    )
    valid, errors = _shared_fields({"risk_rating": "purple", "keyworker_name": "I"}, partial=True)
    assert not valid and set(errors) == {"risk_rating", "keyworker_name"}
    assert _shared_fields({"id": 3, "version": 9}, partial=True) == (True, {})
