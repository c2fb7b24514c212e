"""A person's history as the person page's timeline says it: each entry's words worked out in
Python, so the template only places them (the timeline was a third of the page's rendering)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any

from django.template.defaultfilters import title
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from . import codes, labels
from .models import Person, StatusChange

FIELD_LABELS = {
    "locality_id": "Locality",
    "next_review_due": "Next review due",
    "date_left": "Date left",
    "leaving_reason": "Leaving reason",
}


@functools.cache
def _label(name: str) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    try:
        label = str(Person._meta.get_field(name).verbose_name)
    except Exception:  # a name that is no longer a field still shows in old history
        label = name.replace("_", " ")
    return label[:1].upper() + label[1:]


def _show(value: Any, name: str = "") -> str:
    if value in (None, "", []):
        return "blank"
    if isinstance(value, bool):
        return "yes" if value else "no"
    value = labels.field_value(name, value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return labels.display_date(dt.date.fromisoformat(value), short=True)
        except ValueError:
            return value
    return str(value)


def change_lines(
    changes: dict[str, list[Any]], locality_names: dict[int, str] | None = None
) -> list[tuple[str, str, str]]:
    """A history entry's changed fields as (label, old, new), readable. Category and rating are
    left out: the timeline states them in words already."""
    skip = {"version", "category", "urgent_reason", "risk_rating"}
    names = locality_names or {}
    lines = []
    for name, (old, new) in sorted(changes.items()):
        if name in skip:
            continue
        if name == "locality_id":
            old, new = names.get(old, old), names.get(new, new)
        lines.append((_label(name), _show(old, name), _show(new, name)))
    return lines


def _esc(value: Any) -> str:
    # A plain string straight to `html.escape` (what Django's `escape` does, without its lazy
    # wrapper's checks); anything else as the template would treat it.
    if type(value) is str:
        return html_escape(value)
    return str(conditional_escape(value))


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "Status changed"
    effective: str  # "17 Dec 2026"
    by: str  # who recorded it, or "the system"
    at: str  # when it was recorded: "17 Dec 2026, 14:05"
    category: str  # "Category: Urgent (in hospital) to Enhanced monitoring", or ""
    risk: str  # "Risk of breakdown: Green to Amber", or ""
    reason: str
    lines: list[tuple[str, str, str]]  # the other fields it changed: (label, old, new)


def _status(category: str, reason: str) -> str:
    text = labels.label(codes.Category, category)
    if reason:
        text += f" ({labels.label(codes.UrgentReason, reason).lower()})"
    return text


def entry(change: StatusChange, locality_names: dict[int, str]) -> TimelineEntry:
    category = ""
    if change.category_changed:
        old = _status(change.old_category, change.old_urgent_reason)
        if not change.old_category:
            old = "none" + old
        category = f"Category: {old} to {_status(change.new_category, change.new_urgent_reason)}"
    risk = ""
    if change.old_risk_rating != change.new_risk_rating:
        old_risk, new_risk = change.old_risk_rating or "none", change.new_risk_rating or "none"
        risk = f"Risk of breakdown: {title(old_risk)} to {title(new_risk)}"
    by = change.changed_by
    return TimelineEntry(
        kind=labels.label(codes.ChangeKind, change.kind),
        effective=labels.display_date(change.effective_date, short=True),
        by="the system" if by is None else str(by),
        at=labels.display_datetime(change.changed_at),
        category=category,
        risk=risk,
        reason=change.reason,
        lines=(
            change_lines(change.changes, locality_names)
            if change.kind != codes.ChangeKind.ADDED
            else []
        ),
    )


def timeline(history: list[StatusChange], locality_names: dict[int, str]) -> list[TimelineEntry]:
    """The entries in the order given (the person page: newest first)."""
    return [entry(change, locality_names) for change in history]


def _entry_html(entry: TimelineEntry) -> str:
    category = f'<p class="ds_no-margin">{_esc(entry.category)}</p>' if entry.category else ""
    risk = f'<p class="ds_no-margin">{_esc(entry.risk)}</p>' if entry.risk else ""
    reason = f'<p class="ds_no-margin">Why: {_esc(entry.reason)}</p>' if entry.reason else ""
    lines = ""
    if entry.lines:
        items = "".join(
            f"<li>{_esc(label)}: {_esc(old)} to {_esc(new)}</li>" for label, old, new in entry.lines
        )
        lines = f'\n    <ul class="dsr-changes">{items}</ul>\n    '
    return (
        '\n  <li class="dsr-timeline__item">\n'
        f'    <h3 class="ds_h4 ds_no-margin">{_esc(entry.kind)} '
        f'<span class="dsr-caption">effective {_esc(entry.effective)}</span></h3>\n'
        f'    <p class="ds_no-margin dsr-caption">by {_esc(entry.by)} on {_esc(entry.at)}</p>\n'
        f"    {category}\n    {risk}\n    {reason}\n    {lines}\n  </li>\n"
    )


def timeline_html(entries: list[TimelineEntry], *, oob: bool = False) -> SafeString:
    """The timeline's section, written in one go (an entry through the template cost about 30
    microseconds; `tests/registers/test_timeline_words.py` compares with the old template)."""
    swap = ' hx-swap-oob="true"' if oob else ""
    items = "".join(_entry_html(entry) for entry in entries)
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<section id="timeline" aria-labelledby="timeline-title"{swap}>\n'
        '<h2 id="timeline-title">Timeline</h2>\n'
        f'<ol class="dsr-timeline" aria-labelledby="timeline-title">\n{items}\n</ol>\n</section>\n'
    )
