"""Examples and descriptions of the API's success answers, by the schema component they answer
with (`[Name]` for a plain list). The schema attaches them to every operation that answers that
shape, and the suite checks each example against its schema, so they stay true."""

from __future__ import annotations

import copy
from typing import Any

BASE = "https://dsr.example.scot/api/v1"

PERSON: dict[str, Any] = {
    "id": 42,
    "authority": "S37000006",
    "locality": 3,
    "given_name": "Morag",
    "family_name": "Campbell",
    "preferred_name": "",
    "date_of_birth": "1988-03-14",
    "sex": "female",
    "chi_number": None,
    "local_reference": "CMS-0042",
    "key_worker_name": "Iain Ross",
    "key_worker_contact": "",
    "lead_professional_team": "Nithsdale LD team",
    "referral_source": "social_work",
    "planned_move_date": None,
    "guardianship_or_poa": False,
    "info_sharing_recorded": True,
    "info_sharing_date": "2026-01-12",
    "in_transition": False,
    "category": "urgent",
    "urgent_reason": "at_risk_of_breakdown",
    "risk_rating": "red",
    "risk_factors": ["provider_notice"],
    "hospital_name": "",
    "hospital_type": None,
    "hospital_in_area": None,
    "admission_date": None,
    "legal_status": None,
    "ready_for_discharge_date": None,
    "delay_reason": None,
    "host_area": None,
    "placement_type": None,
    "placement_start_date": None,
    "placement_chosen": None,
    "planned_return_date": None,
    "date_added": "2026-01-12",
    "next_review_due": "2026-04-12",
    "date_left": None,
    "leaving_reason": None,
    "version": 3,
    "created_at": "2026-01-12T10:04:31Z",
    "updated_at": "2026-03-02T15:20:07Z",
}

STATUS_CHANGE: dict[str, Any] = {
    "id": 901,
    "person": 42,
    "kind": "status",
    "changed_by": "API client Care First",
    "changed_at": "2026-03-02T15:20:07Z",
    "effective_date": "2026-03-02",
    "old_category": "enhanced_monitoring",
    "new_category": "urgent",
    "old_urgent_reason": None,
    "new_urgent_reason": "at_risk_of_breakdown",
    "old_risk_rating": "amber",
    "new_risk_rating": "red",
    "risk_factors": ["provider_notice"],
    "reason": "Provider has given notice",
    "changes": {"category": ["enhanced_monitoring", "urgent"]},
    "version": 3,
}

REVIEW: dict[str, Any] = {
    "id": 77,
    "person": 42,
    "review_date": "2026-03-01",
    "attendees": "Morag, her sister, key worker",
    "outcome": "Stable; provider search under way",
    "actions": "Key worker to contact two providers",
    "next_review_due": "2026-06-01",
    "recorded_at": "2026-03-01T16:45:00Z",
}

LOCALITY_OVERVIEW: dict[str, Any] = {
    "id": 3,
    "name": "Nithsdale",
    "created_at": "2025-04-01T09:00:00Z",
    "retired_at": None,
    "on_register": 18,
    "left_register": 4,
    "staff_granted": 6,
}

AUTHORITY_RETURN: dict[str, Any] = {
    "authority": "S37000006",
    "authority_name": "Dumfries and Galloway",
    "census_date": "2026-03-31",
    "status": "submitted",
    "built_at": "2026-04-02T09:12:44Z",
    "submitted_at": "2026-04-03T11:00:00Z",
    "decided_at": None,
    "comment": "",
    "in_transition": 1,
    "warnings": [],
    "tables": {"by_category": {"urgent": 7, "enhanced_monitoring": 11}},
}

TRANSFER: dict[str, Any] = {
    "id": 12,
    "person": 42,
    "to_authority": "S37000012",
    "to_authority_name": "Edinburgh",
    "status": "pending",
    "reason": "Moving to supported living in Leith",
    "requested_at": "2026-03-20T10:00:00Z",
    "decided_at": None,
}


def _page(item: dict[str, Any], path: str) -> dict[str, Any]:
    return {
        "next": f"{BASE}{path}?cursor=cD0yMDI2LTAzLTAy",
        "previous": None,
        "results": [copy.deepcopy(item)],
    }


# component key -> (description, example value); descriptions by status code where they differ.
SUCCESS: dict[str, tuple[dict[str, str], Any]] = {
    "Person": (
        {
            "200": "The person as stored now; the `ETag` header is their version.",
            "201": "Added: the person as stored, with their first version in `ETag`.",
        },
        PERSON,
    ),
    "PaginatedPersonList": (
        {"200": "A page of people, oldest change first: follow `next` until it is null."},
        _page(PERSON, "/people/"),
    ),
    "StatusChange": (
        {"201": "Recorded: the new history entry; the person's new version is in `ETag`."},
        STATUS_CHANGE,
    ),
    "PaginatedStatusChangeList": (
        {"200": "A page of the person's history, oldest first: follow `next` until it is null."},
        _page(STATUS_CHANGE, "/people/42/status-changes/"),
    ),
    "Review": (
        {"201": "Recorded: the review; the person's new version is in `ETag`."},
        REVIEW,
    ),
    "PaginatedReviewList": (
        {"200": "A page of the person's reviews, oldest first: follow `next` until it is null."},
        _page(REVIEW, "/people/42/reviews/"),
    ),
    "BulkResult": (
        {"200": "Every item stored, in order: its person's id, whether added, and new version."},
        {
            "results": [
                {
                    "index": 0,
                    "id": 42,
                    "local_reference": "CMS-0042",
                    "created": False,
                    "version": 4,
                },
                {
                    "index": 1,
                    "id": 57,
                    "local_reference": "CMS-0057",
                    "created": True,
                    "version": 1,
                },
            ]
        },
    ),
    "[Locality]": (
        {"200": "The authority's localities, by name; retired ones cannot be chosen."},
        [
            {"id": 3, "name": "Nithsdale", "retired": False},
            {"id": 4, "name": "Stewartry", "retired": False},
        ],
    ),
    "Codes": (
        {"200": "Each code list: the values the API accepts, with their labels."},
        {
            "sex": [{"value": "female", "label": "Female"}],
            "category": [{"value": "urgent", "label": "Urgent"}],
            "urgent_reason": [{"value": "in_hospital", "label": "In hospital"}],
            "risk_rating": [
                {"value": "red", "label": "Red: breakdown likely without immediate action"}
            ],
            "risk_factors": [{"value": "provider_notice", "label": "Provider has given notice"}],
            "referral_source": [{"value": "social_work", "label": "Social work"}],
            "hospital_type": [{"value": "ld_inpatient", "label": "Learning disability inpatient"}],
            "legal_status": [{"value": "informal", "label": "Informal"}],
            "delay_reason": [{"value": "accommodation", "label": "Accommodation"}],
            "host_area": [
                {"value": "S37000012", "label": "Edinburgh"},
                {"value": "england", "label": "England"},
            ],
            "placement_type": [{"value": "care_home", "label": "Care home"}],
            "leaving_reason": [
                {"value": "settled_in_community", "label": "Settled in the community"}
            ],
            "change_kind": [{"value": "added", "label": "Added to the register"}],
        },
    ),
    "Me": (
        {"200": "The calling client, its scopes, its authority and its rate limit."},
        {
            "client": {"id": 5, "name": "Care First"},
            "scopes": ["read", "write"],
            "authority": {"id": 1, "code": "S37000006", "name": "Dumfries and Galloway"},
            "rate_limit": {"limit": 600, "window_seconds": 60},
        },
    ),
    "[LocalityOverview]": (
        {"200": "The authority's localities with how many people and staff each has."},
        [LOCALITY_OVERVIEW],
    ),
    "LocalityOverview": (
        {
            "200": "The locality as it is now, with its counts.",
            "201": "Added: the new locality.",
        },
        LOCALITY_OVERVIEW,
    ),
    "Moved": ({"200": "How many people were moved."}, {"moved": 12}),
    "Leaving": (
        {"200": "When and why the person left the register; both null while they are on it."},
        {"date_left": "2026-03-20", "leaving_reason": "settled_in_community"},
    ),
    "Transfer": (
        {"201": "Requested: the transfer waits for the receiving authority to decide."},
        TRANSFER,
    ),
    "[Transfer]": (
        {"200": "The person's transfers to other authorities, newest first."},
        [TRANSFER],
    ),
    "[AuthorityReturn]": (
        {"200": "The authority's census returns, newest first."},
        [AUTHORITY_RETURN],
    ),
    "AuthorityReturn": (
        {"200": "The census return: status and aggregate tables, never person-level rows."},
        AUTHORITY_RETURN,
    ),
}


def component_key(schema: dict[str, Any] | None) -> str | None:
    """`Person` for a $ref to it, `[Person]` for a list of them."""
    if not schema:
        return None
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return f"[{schema['items']['$ref'].rsplit('/', 1)[-1]}]"
    return None
