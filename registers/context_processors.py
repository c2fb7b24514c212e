from django.http import HttpRequest

from . import access
from .current_authority import current_authority, user_authorities


def scope(request: HttpRequest) -> dict:
    """The current authority and the access module's named answers for the page templates."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return access.template_flags(user, None)
    authority = current_authority(request)
    return {
        **access.template_flags(user, authority),
        "current_authority": authority,
        "my_authorities": user_authorities(request),
    }
