"""Template helpers for the design system's form fields, the timeline and the charts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.forms import BoundField
from django.template.defaultfilters import date as date_filter
from django.utils.safestring import mark_safe

from dsr.urltags import reversed_url
from registers import labels
from registers.audit import AuditAction
from registers.fieldhtml import field_html, hidden_html
from registers.timeline import change_lines, timeline_html
from registers.widgets import PARTS, date_parts, parts_in_error

register = template.Library()

CHOICE_GROUPS = {"radioselect", "checkboxselectmultiple"}
ARIA_CURRENT = ' aria-current="page"'


@register.filter
def widget_kind(field: BoundField) -> str:
    kind = field.widget_type  # the widget's class name without "Input"/"Widget", lower case
    if kind in ("date", "email", "number"):
        return "text"
    return kind


@register.filter
def field_anchor(field: BoundField) -> str:
    """The id an error summary links to: a group's first option, or the input itself."""
    if field.widget_type in CHOICE_GROUPS:
        return f"{field.auto_id}_0"
    if field.widget_type == "daymonthyear":
        return f"{field.auto_id}_{(date_parts_in_error(field) or PARTS)[0]}"
    return field.auto_id


def date_parts_in_error(field: BoundField) -> tuple[str, ...]:
    return parts_in_error(field.value()) if field.errors else ()


# Django's own messages do not say which field they are about; on their own in an error summary
# ("This field is required." six times) they tell the reader nothing.
GENERIC_STARTS = (
    "Select a valid choice",
    "Enter a valid",
    "Enter a whole number",
    "Enter a number",
    "Ensure this value",
)


@register.filter
def named_error(error: str, field: BoundField) -> str:
    """An error message that names its field, whatever form it came from."""
    label = str(field.label or field.name).removesuffix(" (optional)").strip()
    if str(error) == "This field is required.":
        return f"Answer '{label}'." if label.endswith("?") else f"{label} is required."
    if str(error).startswith(GENERIC_STARTS):
        return f"{label}: {error}"
    return str(error)


@register.filter
def field_errors(field: BoundField) -> str:
    return " ".join(named_error(error, field) for error in field.errors)


@register.filter
def date_inputs(field: BoundField) -> list[tuple[str, str, str, bool]]:
    """(part, label, value, in error) for each of a date's three boxes: day, month and year."""
    wrong = date_parts_in_error(field)
    values = date_parts(field.value())
    labels = ("Day", "Month", "Year")
    return [
        (part, label, value, part in wrong)
        for part, label, value in zip(PARTS, labels, values, strict=True)
    ]


@register.filter
def input_value(field: BoundField) -> str:
    value = field.value()
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


@register.filter
def is_checked(option: dict[str, Any]) -> bool:
    return bool(option.get("selected"))


register.filter("change_lines", change_lines)


@register.filter
def code_label(value: Any, field: str) -> str:
    """A person field's code (or list of codes) in words:
    `{{ person.risk_factors|code_label:"risk_factors" }}`."""
    if value in (None, "", []):
        return ""
    return str(labels.field_value(field, value))


@register.filter
def host_area(code: str | None) -> str:
    """A host area's name: another authority's, or a place beyond Scotland."""
    return labels.host_area(code)


@register.filter
def display_date(value: dt.date | str | None) -> str:
    """A date (or an ISO date kept in a stored summary) in the one display format."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return labels.display_date(value)


@register.filter
def audit_sentence(action: str) -> str:
    """An audit action as the sentence people read ("Signed in with second factor")."""
    return str(dict(AuditAction.choices).get(action, action))


# The main navigation's items (URL name, view, label): for all in an authority, and for its lead.
NAV_ITEMS = (
    ("person_list", "registers:person_list", "Register"),
    ("person_add", "registers:person_add", "Add a person"),
    ("reviews_due", "registers:reviews_due", "Due and overdue"),
    ("transfers", "registers:transfers", "Transfers"),
)
LEAD_NAV_ITEMS = (
    ("dashboard", "registers:dashboard", "Dashboard"),
    ("staff_list", "accounts:staff_list", "Staff"),
    ("locality_list", "registers:locality_list", "Localities"),
    ("audit_log", "registers:audit_log", "Audit log"),
    ("register_files", "registers:register_files", "Import and export"),
    ("api_client_list", "accounts:api_client_list", "API clients"),
)
NAVIGATION = "navigation"


def _nav_item(here: Any, app: Any, name: str, url: str, label: str) -> str:
    current = here == name
    return (
        '<li class="ds_site-navigation__item"><a class="ds_site-navigation__link'
        f'{" ds_current" if current else ""}" href="{reversed_url(url, app)}"'
        f"{ARIA_CURRENT if current else ''}>{label}</a></li>\n"
    )


def navigation_html(context: template.Context) -> str:
    """The items as the template `includes/navigation_items.html` wrote them (each through an
    include; tests/test_navigation.py keeps both templates and compares)."""
    match = getattr(context.get("request"), "resolver_match", None)
    here = getattr(match, "url_name", "")
    # As {% url %} takes its current application: the request's, or its URL's namespace.
    request = context.get("request")
    app = getattr(request, "current_app", None)
    if app is None and not hasattr(request, "current_app"):
        app = getattr(match, "namespace", None)
    authority = ""
    if context.get("current_authority"):
        register, add, due, transfers = (_nav_item(here, app, *item) for item in NAV_ITEMS)
        lead = ""
        if context.get("is_lead_here"):
            items = "".join(f"  {_nav_item(here, app, *item)}\n" for item in LEAD_NAV_ITEMS)
            lead = f"\n{items}  "
        shown_add = add if context.get("can_add_people") else ""
        authority = f"\n  {register}\n  {shown_add}\n  {due}\n  {transfers}\n  {lead}\n  "
    reporting = getattr(match, "app_name", "") == "reporting"
    census = (
        '<li class="ds_site-navigation__item"><a class="ds_site-navigation__link'
        f'{" ds_current" if reporting else ""}" href="{reversed_url("reporting:index", app)}"'
        f"{ARIA_CURRENT if reporting else ''}>Census returns</a></li>"
    )
    return (
        f'\n\n<ul class="ds_site-navigation__list">\n  {authority}\n  \n  {census}\n  \n</ul>\n\n'
    )


@register.simple_tag(takes_context=True)
def navigation(context: template.Context) -> str:
    """The main navigation's items, written once a page: the header shows them twice (wide
    screens, and behind "Menu" on narrow ones), from the same context."""
    rendered = context.render_context.get(NAVIGATION)
    if rendered is None:
        rendered = mark_safe(navigation_html(context))  # noqa: S308 - constant labels and URLs
        context.render_context[NAVIGATION] = rendered
    return rendered


@register.simple_tag
def form_field(field: BoundField, inline: bool = False, width: Any = None) -> str:
    """A field in the design system's markup: what `includes/field.html` writes, in Python."""
    return field_html(field, inline=inline, width=width)


@register.simple_tag(takes_context=True)
def timeline_section(context: template.Context) -> str:
    """The person's timeline (`timeline` in the context), as `registers.timeline` writes it."""
    return timeline_html(context.get("timeline") or [], oob=bool(context.get("oob_timeline")))


@register.filter(expects_localtime=True)
def day(value: Any) -> str:
    """`|date` for a date: "17 December 2026" without Django's format parser (about 15
    microseconds a date); anything else as `|date` writes it."""
    if type(value) is dt.date:
        return labels.display_date(value)
    return date_filter(value)


@register.filter(expects_localtime=True)
def short_day(value: Any) -> str:
    """`|date:"SHORT_DATE_FORMAT"` the same way: "17 Dec 2026"."""
    if type(value) is dt.date:
        return labels.display_date(value, short=True)
    return date_filter(value, "SHORT_DATE_FORMAT")


@register.simple_tag
def hidden_fields(form: Any) -> str:
    """The form's hidden fields, as printing each of `form.hidden_fields` would."""
    return hidden_html(form)
