"""One person's pages: the record, who has read it, adding, editing the details, moving to
another locality, and leaving the register (two steps)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .. import access, selectors, services
from ..audit import AuditAction
from ..forms import (
    AddPersonForm,
    DetailsForm,
    LeaveForm,
    MoveLocalityForm,
    attach_errors,
)
from ..models import Person
from .common import (
    authority_id_of,
    detail_context,
    person_form_page,
    stale_context,
)


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    page = selectors.viewed_person_page(request.user, pk)
    return render(request, "registers/person_detail.html", detail_context(request, page))


@login_required
def person_viewers(request: HttpRequest, pk: int) -> HttpResponse:
    """Who has recently read the record: loaded into the person page (htmx), or its own page."""
    person = access.person_for_read(request.user, pk)
    if not access.can_see_viewers(request.user, person):
        raise PermissionDenied("Staff who can change this record see who has read it.")
    viewers = selectors.recent_viewers(request.user, person)
    template = "registers/_viewers.html" if request.htmx else "registers/person_viewers.html"
    return render(request, template, {"person": person, "viewers": viewers})


@login_required
@require_http_methods(["GET", "POST"])
def person_add(request: HttpRequest) -> HttpResponse:
    authority_id = authority_id_of(request)
    localities = selectors.localities_for(
        request.user, write=True, active=True, authority_id=authority_id
    )
    if not localities.exists():
        raise PermissionDenied("You cannot add people to this authority's register.")
    form = AddPersonForm(request.POST or None, localities=localities, authority_id=authority_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.add_person(
                request.user,
                locality=data["locality"],
                reason=data.get("reason") or "",
                date_added=data.get("date_added"),
                **form.details(),
                **form.chi_confirmation(),
                **form.status_kwargs(),
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{person.display_name} was added to the register.")
            return redirect("registers:person_detail", pk=person.pk)
    return render(request, "registers/person_form.html", {"form": form, "adding": True})


def _details_initial(person: Person) -> dict[str, Any]:
    return {name: getattr(person, name) for name in DetailsForm.detail_fields} | {
        "version": person.version
    }


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    def save(person: Person, form: DetailsForm) -> None:
        services.update_person_details(
            request.user,
            person,
            version=form.cleaned_data["version"],
            **form.details(),
            **form.chi_confirmation(),
        )

    return person_form_page(
        request,
        pk,
        form_class=DetailsForm,
        template="registers/person_edit.html",
        initial=_details_initial,
        save=save,
        success="The person's details were saved.",
        audit_view=AuditAction.PERSON_EDIT_VIEWED,
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """Removing someone takes two steps: the form, then a confirmation page."""
    person = access.person_for_write(request.user, pk)
    if person.date_left is not None:
        raise Http404("This person has already left the register.")
    form = LeaveForm(
        request.POST or None,
        initial={"version": person.version, "date_left": timezone.localdate()},
    )
    extra: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("confirmed") != "yes":
            return render(
                request, "registers/person_leave_confirm.html", {"form": form, "person": person}
            )
        try:
            services.remove_from_register(
                request.user,
                person,
                version=data["version"],
                date_left=data["date_left"],
                leaving_reason=data["leaving_reason"],
                note=data.get("note") or "",
            )
        except services.StaleVersion:
            person.refresh_from_db()
            form, extra = stale_context(request, person, LeaveForm, data["version"])
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{person.display_name} has left the register.")
            return redirect("registers:person_list")
    return render(request, "registers/person_leave.html", {"form": form, "person": person, **extra})


@login_required
@require_http_methods(["GET", "POST"])
def person_move(request: HttpRequest, pk: int) -> HttpResponse:
    def save(person: Person, form: MoveLocalityForm) -> None:
        services.move_locality(
            request.user,
            person,
            version=form.cleaned_data["version"],
            locality=form.cleaned_data["locality"],
            reason=form.cleaned_data.get("reason") or "",
        )

    return person_form_page(
        request,
        pk,
        form_class=MoveLocalityForm,
        template="registers/person_move.html",
        initial=lambda person: {"version": person.version},
        save=save,
        success="The person was moved to the new locality.",
        form_kwargs=lambda person: {
            "localities": selectors.localities_for(
                request.user,
                write=True,
                active=True,
                authority_id=person.authority_id,
                exclude=person.locality_id,
            )
        },
    )
