"""The access module's answers about one object, for templates: `{% load access %}`.

The page-wide answers (`is_lead_here`, `can_add_people`, `is_national`, ...) come from the
context processor; these take the page's `dsr_scope` and decide in memory (no query per row).
"""

from __future__ import annotations

from django import template

from registers.access import Scope
from registers.models import Person

register = template.Library()


@register.filter
def writable_by(person: Person, scope: Scope | None) -> bool:
    """Whether the scope may change this person."""
    return scope is not None and scope.can_change(person)


@register.filter
def led_by(person: Person, scope: Scope | None) -> bool:
    """Whether the scope leads the person's authority (subject access, the audit log)."""
    return scope is not None and scope.is_lead_of(person.authority_id)
