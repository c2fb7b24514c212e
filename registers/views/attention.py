"""What needs the signed-in user's attention: the same items as the reminder emails
(registers/reminders.py), loaded into the dashboard, the register page and the census returns page
by htmx, or on its own page without JavaScript."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import reminders
from ..current_authority import current_authority


@login_required
def needs_attention(request: HttpRequest) -> HttpResponse:
    authority = current_authority(request)
    items = reminders.needs_attention(request.user, authority.pk if authority else None)
    template = (
        "registers/_needs_attention.html" if request.htmx else "registers/needs_attention.html"
    )
    return render(request, template, {"attention": items})
