"""Staff management for an authority's lead, built on accounts/services.py (which checks the lead
role again and audits every change)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from registers import access
from registers.forms import attach_errors
from registers.models import IntegrationAuthority

from .. import oidc, selectors, services
from ..forms import AddStaffForm, GrantsForm, HandOverForm, RoleForm
from ..models import Membership


def _membership(request: HttpRequest, pk: int) -> tuple[IntegrationAuthority, Membership]:
    authority = access.led_authority(request)
    return authority, selectors.staff_member(request.user, authority=authority, pk=pk)


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    authority = access.led_authority(request)
    rows = [
        (member, grants, services.invitation_status(member.user))
        for member, grants in selectors.staff(request.user, authority=authority)
    ]
    return render(request, "accounts/staff_list.html", {"rows": rows, "authority": authority})


@login_required
@require_http_methods(["GET", "POST"])
def staff_add(request: HttpRequest) -> HttpResponse:
    authority = access.led_authority(request)
    form = AddStaffForm(request.POST or None, authority_id=authority.pk)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.add_staff_member(request.user, authority, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{membership.user.email} was added to your staff.")
            return redirect("accounts:staff_list")
    return render(request, "accounts/staff_add.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def staff_member(request: HttpRequest, pk: int) -> HttpResponse:
    authority, membership = _membership(request, pk)
    granted = selectors.granted_localities(request.user, membership)
    action = request.POST.get("action")
    role_form = RoleForm(
        request.POST if action == "role" else None, initial={"role": membership.role}
    )
    grants_form = GrantsForm(
        request.POST if action == "grants" else None,
        authority_id=authority.pk,
        initial={"localities": list(granted)},
    )
    if request.method == "POST":
        try:
            if action == "role" and role_form.is_valid():
                services.set_role(request.user, membership, role=role_form.cleaned_data["role"])
                messages.success(request, "The role was changed.")
                return redirect("accounts:staff_member", pk=membership.pk)
            if action == "grants" and grants_form.is_valid():
                wanted = set(grants_form.cleaned_data["localities"])
                have = set(granted)
                for locality in sorted(wanted - have, key=lambda loc: loc.name):
                    services.grant_locality(request.user, membership, locality)
                for locality in sorted(have - wanted, key=lambda loc: loc.name):
                    services.revoke_locality(request.user, membership, locality)
                messages.success(request, "The localities were saved.")
                return redirect("accounts:staff_member", pk=membership.pk)
        except ValidationError as exc:
            attach_errors(role_form if action == "role" else grants_form, exc)
    return render(
        request,
        "accounts/staff_member.html",
        {
            "membership": membership,
            "role_form": role_form,
            "grants_form": grants_form,
            "granted": granted,
            "invitation": services.invitation_status(membership.user),
        },
    )


# One-step actions on a member of staff: each a POST, each checked and audited by the service.
STAFF_ACTIONS = {
    "resend": (services.resend_invitation, "A new invitation was sent."),
    "deactivate": (services.deactivate_staff_member, "Their access was stopped; history stays."),
    "reactivate": (services.reactivate_staff_member, "Their access was restored."),
    "reset-second-factor": (
        services.reset_member_second_factor,
        "Their authenticator app was removed; they were told by email and will set up a new "
        "one at their next sign-in.",
    ),
}


@login_required
@require_POST
def staff_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in STAFF_ACTIONS:
        raise Http404("No such action.")
    _, membership = _membership(request, pk)
    service, done = STAFF_ACTIONS[action]
    try:
        service(request.user, membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("accounts:staff_member", pk=pk)


@login_required
@require_POST
def staff_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a member of staff, after a confirmation page (nothing changes until confirmed)."""
    _, membership = _membership(request, pk)
    if request.POST.get("confirmed") != "yes":
        return render(request, "accounts/staff_remove_confirm.html", {"membership": membership})
    try:
        services.remove_staff_member(request.user, membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:staff_member", pk=pk)
    messages.success(request, f"{membership.user.email} was removed from your staff.")
    return redirect("accounts:staff_list")


@login_required
@require_http_methods(["GET", "POST"])
def hand_over(request: HttpRequest) -> HttpResponse:
    authority = access.led_authority(request)
    form = HandOverForm(request.POST or None, authority_id=authority.pk)
    if request.method == "POST" and form.is_valid():
        to_user = form.cleaned_data["to_membership"].user
        try:
            services.hand_over_lead(request.user, authority, to_user=to_user)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{to_user} is now the named lead of {authority.name}.")
            return redirect("registers:person_list")
    return render(request, "accounts/hand_over.html", {"form": form, "authority": authority})


@login_required
@require_GET
def identity_providers(request: HttpRequest) -> HttpResponse:
    """The lead's read-only view of how their authority's staff may sign in (docs/sign-in.md)."""
    authority = access.led_authority(request)
    return render(
        request,
        "accounts/identity_providers.html",
        {
            "authority": authority,
            "providers": selectors.identity_providers(request.user, authority=authority),
            "redirect_uri": oidc.redirect_uri(request),
        },
    )
