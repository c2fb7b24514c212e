"""The national team's administrators manage the national analysts' accounts. Thin: the rules
and the audit are in accounts/services.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from registers import access
from registers.forms import attach_errors

from .. import selectors, services
from ..forms import NationalAnalystForm


@login_required
@require_http_methods(["GET", "POST"])
def analyst_list(request: HttpRequest) -> HttpResponse:
    access.require_national_administrator(request.user)
    form = NationalAnalystForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.invite_national_analyst(request.user, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{added.email} is now a national analyst.")
            return redirect("accounts:analyst_list")
    rows = [
        (analyst, services.invitation_status(analyst))
        for analyst in selectors.national_analysts(request.user)
    ]
    return render(request, "accounts/analyst_list.html", {"rows": rows, "form": form})


ANALYST_ACTIONS = {
    "resend": (services.resend_national_invitation, "A new invitation was sent."),
    "deactivate": (services.deactivate_national_analyst, "Their sign-in was stopped."),
    "reactivate": (services.reactivate_national_analyst, "Their sign-in was restored."),
    "remove": (services.remove_national_analyst, "They are no longer a national analyst."),
    "reset-second-factor": (
        services.reset_national_analyst_second_factor,
        "Their authenticator app was removed; they were told by email and will set up a new "
        "one at their next sign-in.",
    ),
}


@login_required
@require_POST
def analyst_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    access.require_national_administrator(request.user)
    if action not in ANALYST_ACTIONS:
        raise Http404("No such action.")
    analyst = selectors.analyst_by_id(request.user, pk)
    service, done = ANALYST_ACTIONS[action]
    if action == "remove" and request.POST.get("confirmed") != "yes":
        return render(request, "accounts/analyst_remove_confirm.html", {"analyst": analyst})
    try:
        service(request.user, analyst)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("accounts:analyst_list")
