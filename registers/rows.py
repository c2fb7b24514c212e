"""The register list's rows, worked out and written once per page in plain Python.

A row template used to ask each person for its labels, dates, age and right to change, and
reversed two URLs a row, through template tags, filters and an include per row: about 0.2 ms a
row, over half of a 50-row page's time in Python. Here each row is a few dictionary lookups and
one f-string with every value escaped: the same HTML as that template, which
`tests/registers/test_person_rows.py` keeps to compare. The list (`registers/_results.html`) and
the inline update's answer (one row, marked as updated) both print `PersonRow.html`.
"""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from django.template.defaultfilters import urlencode
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from . import access
from .codes import Category, UrgentReason
from .labels import short_date_formatter
from .models import Person

if TYPE_CHECKING:
    from accounts.models import User

CATEGORY_LABELS = dict(Category.choices)
REASON_LABELS = dict(UrgentReason.choices)
# A positive id no person has: reversed once, then replaced by each row's id.
_SLOT = 987654321


@dataclass(frozen=True, slots=True)
class PersonRow:
    """What one row of the register list shows."""

    pk: int
    name: str
    detail_url: str
    born: str
    age: int
    reference: str
    locality: str
    status: str
    risk_rating: str
    risk_label: str
    review: str
    overdue: bool
    # The quick status update's address, or "" when the user may not change the person.
    quick_url: str
    # The list's own address, to come back to after the update without JavaScript (URL-encoded).
    back: str

    def html(self, updated: str = "") -> SafeString:
        """The row's table row; `updated` says what an inline update just changed (announced).

        Every value is escaped as the template language escapes it (`html.escape`, which is
        Django's `escape`); an f-string, as `format_html` cost four times as much a row."""
        name = escape(self.name)
        marked = (
            f' class="dsr-updated" tabindex="-1" data-announce="{escape(updated)}"'
            if updated
            else ""
        )
        tag = ' <strong class="ds_tag ds_tag--green">Updated</strong>' if updated else ""
        if self.risk_rating:
            risk = (
                f'<span class="dsr-rag dsr-rag--{escape(self.risk_rating)}">'
                f"{escape(self.risk_label)}</span>"
            )
        else:
            risk = '<span class="dsr-muted">In hospital</span>'
        overdue = ' <strong class="ds_tag ds_tag--red">Overdue</strong>' if self.overdue else ""
        action = ""
        if self.quick_url:
            quick = escape(self.quick_url)
            action = (
                f'<a href="{quick}?from=list&amp;next={escape(self.back)}" hx-get="{quick}'
                '?from=list" hx-target="closest tr" hx-swap="outerHTML">Update status'
                f'<span class="visually-hidden"> for {name}</span></a>'
            )
        return mark_safe(  # noqa: S308 - every value above is escaped
            f'<tr id="person-{self.pk}"{marked}>\n'
            f'  <td><a href="{escape(self.detail_url)}">{name}</a>{tag}</td>\n'
            f'  <td class="dsr-nowrap">{escape(self.born)} <span class="dsr-muted">'
            f"(age {self.age})</span></td>\n"
            f'  <td class="dsr-nowrap">{escape(self.reference)}</td>\n'
            f"  <td>{escape(self.locality)}</td>\n"
            f"  <td>{escape(self.status)}</td>\n"
            f"  <td>{risk}</td>\n"
            f"  <td>{escape(self.review)}{overdue}</td>\n"
            f'  <td class="dsr-col-actions">{action}</td>\n'
            "</tr>\n"
        )


def _url_maker(name: str) -> Callable[[int], str]:
    """A person's URL for the named route, reversed once (the routes take the id only)."""
    before, _, after = reverse(name, args=[_SLOT]).partition(str(_SLOT))
    return lambda pk: f"{before}{pk}{after}"


# What a row shows and the right to change it needs, read as named tuples
# (`selectors.row_columns`): the person's own logic (`display_name`, `age_on`) reads them as it
# reads a person.
ROW_VALUES = (
    "pk",
    "authority_id",
    "locality_id",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "local_reference",
    "category",
    "urgent_reason",
    "risk_rating",
    "next_review_due",
    "locality__name",
)
RowValues = namedtuple("RowValues", ROW_VALUES)


def row_values(person: Person) -> RowValues:
    """A person (with their locality) as the list reads its rows."""
    return RowValues(
        *(
            person.locality.name if name == "locality__name" else getattr(person, name)
            for name in ROW_VALUES
        )
    )


def person_rows(
    people: Iterable[RowValues], *, user: User, today: dt.date, list_path: str
) -> list[PersonRow]:
    """The rows for `people` (`ROW_VALUES`: `selectors.row_columns`, or `row_values`), as
    `user` may act on them."""
    detail_url = _url_maker("registers:person_detail")
    quick_url = _url_maker("registers:person_quick_status")
    back = urlencode(list_path)
    short = short_date_formatter()
    can_change = access.change_checker(user)

    rows = []
    for person in people:
        category = CATEGORY_LABELS.get(person.category, person.category)
        reason = person.urgent_reason
        review = person.next_review_due
        rows.append(
            PersonRow(
                pk=person.pk,
                name=Person.display_name.fget(person),
                detail_url=detail_url(person.pk),
                born=short(person.date_of_birth),
                age=Person.age_on(person, today),
                reference=person.local_reference,
                locality=person.locality__name,
                status=(
                    f"{category}: {REASON_LABELS.get(reason, reason).lower()}"
                    if reason
                    else str(category)
                ),
                risk_rating=person.risk_rating or "",
                risk_label=(person.risk_rating or "").title(),
                review=short(review) or "-",
                overdue=bool(review and review < today),
                quick_url=quick_url(person.pk) if can_change(person) else "",
                back=back,
            )
        )
    return rows
