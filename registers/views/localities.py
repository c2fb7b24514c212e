"""The lead's localities pages: list and add, rename, retire, and move people between localities.
Thin: the rules are in registers/localities.py, the reads in registers/selectors.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .. import access, localities, selectors
from ..forms import LocalityNameForm, MovePeopleForm, attach_errors


@login_required
@require_http_methods(["GET", "POST"])
def locality_list(request: HttpRequest) -> HttpResponse:
    authority = access.led_authority(request)
    form = LocalityNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = localities.create_locality(
                request.user, authority.pk, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{created.name} was added.")
            return redirect("registers:locality_list")
    rows = list(selectors.locality_overview(request.user, authority_id=authority.pk))
    return render(
        request,
        "registers/localities.html",
        {"authority": authority, "rows": rows, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def locality_detail(request: HttpRequest, pk: int) -> HttpResponse:
    authority = access.led_authority(request)
    locality = (
        selectors.locality_overview(request.user, authority_id=authority.pk).filter(pk=pk).first()
    )
    if locality is None:
        raise Http404("No such locality in your authority.")
    action = request.POST.get("action")
    rename = LocalityNameForm(
        request.POST if action == "rename" else None, initial={"name": locality.name}
    )
    people = list(selectors.people_in_locality(request.user, locality))
    targets = selectors.locality_move_targets(request.user, locality)
    move = MovePeopleForm(
        request.POST if action == "move" else None, targets=targets, people=people
    )
    retire_errors: list[str] = []
    if request.method == "POST":
        try:
            if action == "rename" and rename.is_valid():
                localities.rename_locality(request.user, locality.pk, **rename.cleaned_data)
                messages.success(request, "The locality was renamed.")
                return redirect("registers:locality_detail", pk=locality.pk)
            if action == "move" and move.is_valid():
                moved = localities.move_people(
                    request.user,
                    from_locality=locality.pk,
                    to_locality=move.cleaned_data["to_locality"].pk,
                    people=move.chosen(),
                    reason=move.cleaned_data["reason"],
                )
                target = move.cleaned_data["to_locality"].name
                messages.success(
                    request, f"{moved} {'person' if moved == 1 else 'people'} moved to {target}."
                )
                return redirect("registers:locality_detail", pk=locality.pk)
            if action == "retire":
                localities.retire_locality(request.user, locality.pk)
                messages.success(request, f"{locality.name} was retired.")
                return redirect("registers:locality_list")
        except ValidationError as exc:
            if action == "retire":
                retire_errors = exc.messages
            else:
                attach_errors(rename if action == "rename" else move, exc)
    return render(
        request,
        "registers/locality.html",
        {
            "authority": authority,
            "locality": locality,
            "rename": rename,
            "move": move,
            "people": people,
            "retire_errors": retire_errors,
        },
    )
