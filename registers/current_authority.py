"""The authority a multi-authority user is working in, kept in their session.

The scope (registers/access.py) still covers every authority the user belongs to; this only picks
which one the register list, the review list and the dashboard show.
"""

from __future__ import annotations

from django.http import HttpRequest

from . import access
from .models import IntegrationAuthority

SESSION_KEY = "dsr_authority_id"


def user_authorities(request: HttpRequest) -> list[IntegrationAuthority]:
    cached = getattr(request, "_dsr_authorities", None)
    if cached is None:
        cached = access.member_authorities(request.user)
        request._dsr_authorities = cached
    return cached


def current_authority(request: HttpRequest) -> IntegrationAuthority | None:
    authorities = user_authorities(request)
    chosen = request.session.get(SESSION_KEY)
    for authority in authorities:
        if authority.pk == chosen:
            return authority
    return authorities[0] if authorities else None


def choose_authority(request: HttpRequest, authority_id: int) -> IntegrationAuthority | None:
    """Switch to one of the user's own authorities; anything else is refused (None)."""
    for authority in user_authorities(request):
        if authority.pk == authority_id:
            request.session[SESSION_KEY] = authority.pk
            return authority
    return None
