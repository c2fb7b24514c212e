"""Changes to the register, by subject: people (`people.py`), transfers between authorities
(`transfers.py`) and updates from other systems (`sync.py`). Each runs in one transaction, checks
the actor's rights, refuses a stale version, appends the person's history and writes the audit
trail. Callers import from here."""

from ..validation import normalise_status
from .counts import compact_register_counts
from .people import (
    add_person,
    move_locality,
    record_review,
    record_status_change,
    remove_from_register,
    schedule_review,
    update_person_details,
)
from .records import (
    CONSTRAINT_MESSAGES,
    DETAIL_FIELDS,
    IDENTITY_FIELDS,
    STATUS_FIELDS,
    StaleVersion,
    default_next_review,
)
from .sync import (
    NEW_PERSON_REQUIRED,
    BulkErrors,
    VersionRequired,
    bulk_upsert_people,
    update_person,
    upsert_person,
)
from .transfers import (
    TRANSFER_COPIED_FIELDS,
    accept_transfer,
    cancel_transfer,
    decline_transfer,
    request_transfer,
)

__all__ = [
    "CONSTRAINT_MESSAGES",
    "DETAIL_FIELDS",
    "IDENTITY_FIELDS",
    "NEW_PERSON_REQUIRED",
    "STATUS_FIELDS",
    "TRANSFER_COPIED_FIELDS",
    "BulkErrors",
    "StaleVersion",
    "VersionRequired",
    "accept_transfer",
    "add_person",
    "bulk_upsert_people",
    "cancel_transfer",
    "compact_register_counts",
    "decline_transfer",
    "default_next_review",
    "move_locality",
    "normalise_status",
    "record_review",
    "record_status_change",
    "remove_from_register",
    "request_transfer",
    "schedule_review",
    "update_person",
    "update_person_details",
    "upsert_person",
]
