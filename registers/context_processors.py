from django.http import HttpRequest

from .access import scope_for
from .session import current_authority, user_authorities


def scope(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"dsr_scope": scope_for(user) if user is not None else None}
    scope = scope_for(user)
    authority = current_authority(request)
    return {
        "dsr_scope": scope,
        "current_authority": authority,
        "my_authorities": user_authorities(request),
        "current_role": scope.role_in(authority.pk) if authority else None,
        "is_lead_here": bool(authority and scope.is_lead_of(authority.pk)),
    }
