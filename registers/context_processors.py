from django.http import HttpRequest

from .access import scope_for


def scope(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"dsr_scope": scope_for(user) if user is not None else None}
