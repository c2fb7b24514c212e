"""What is recorded on a person's record: a status change (the full form, or the quick update
from the list or the person page) and a review."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .. import access, selectors, services
from ..forms import (
    QuickStatusForm,
    ReviewForm,
    StatusForm,
    attach_errors,
    status_value,
)
from ..models import Person
from ..rows import person_rows, row_values
from .common import (
    detail_context,
    person_form_page,
    quick_form,
    quick_ids,
    safe_next,
    stale_context,
)


def _status_initial(person: Person) -> dict[str, Any]:
    initial = {name: getattr(person, name) for name in StatusForm.hospital_fields}
    initial.update({name: getattr(person, name) for name in StatusForm.placement_fields})
    initial["hospital_in_area"] = {True: "yes", False: "no"}.get(person.hospital_in_area)
    return initial | {
        "status": status_value(person.category, person.urgent_reason),
        "risk_rating": person.risk_rating,
        "risk_factors": person.risk_factors,
        "version": person.version,
    }


@login_required
@require_http_methods(["GET", "POST"])
def person_status(request: HttpRequest, pk: int) -> HttpResponse:
    def save(person: Person, form: StatusForm) -> None:
        services.record_status_change(
            request.user,
            person,
            version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
            effective_date=form.cleaned_data.get("effective_date"),
            **form.status_kwargs(),
        )

    return person_form_page(
        request,
        pk,
        form_class=StatusForm,
        template="registers/person_status.html",
        initial=_status_initial,
        save=save,
        success="The status change was recorded.",
        form_kwargs=lambda person: {"authority_id": person.authority_id},
    )


def _open_for_quick_update(request: HttpRequest, pk: int) -> Person:
    person = access.person_for_write(request.user, pk)
    if person.date_left is not None:
        raise Http404("This person has left the register.")
    return person


@login_required
@require_http_methods(["GET", "POST"])
def person_quick_status(request: HttpRequest, pk: int) -> HttpResponse:
    """A rating or category change in a few clicks, from the list or the person page.

    With htmx the form opens in place and the answer replaces the list row or the person's status
    and timeline; without JavaScript it is an ordinary page that returns where it came from.
    """
    origin = request.POST.get("from") or request.GET.get("from") or "person"
    extra: dict[str, Any] = {}
    person: Person | None = None
    if request.method == "POST":
        # The service reads and locks the person; the page reads them only to show the form again.
        form = QuickStatusForm(request.POST, auto_id=quick_ids(pk))
        if form.is_valid():
            data = form.cleaned_data
            category, _, urgent_reason = data["status"].partition(":")
            try:
                services.record_status_change(
                    request.user,
                    pk,
                    version=data["version"],
                    category=category,
                    urgent_reason=urgent_reason or None,
                    risk_rating=data.get("risk_rating") or None,
                    risk_factors=None,
                    reason=data["reason"],
                )
            except services.StaleVersion:
                person = _open_for_quick_update(request, pk)
                form, extra = stale_context(
                    request, person, QuickStatusForm, data["version"], auto_id=quick_ids(pk)
                )
            except ValidationError as exc:
                attach_errors(form, exc)
                extra["needs_full_form"] = True
            else:
                return _quick_done(request, pk, origin)
        person = person or _open_for_quick_update(request, pk)
    else:
        person = _open_for_quick_update(request, pk)
        form = quick_form(person)
    context = {
        "form": form,
        "person": person,
        "origin": origin,
        "next_url": safe_next(request, ""),
        **extra,
    }
    if request.htmx and origin == "list":
        return render(request, "registers/_quick_row.html", context)
    if request.htmx:
        detail = detail_context(request, selectors.person_page(request.user, pk))
        return render(
            request, "registers/_status_and_timeline.html", context | detail | {"quick_form": form}
        )
    return render(request, "registers/person_quick_status.html", context)


def _status_sentence(person: Person) -> str:
    """What the inline update changed, said in full (shown beside the change and announced)."""
    status = person.get_category_display()
    if person.urgent_reason:
        status += f": {person.get_urgent_reason_display().lower()}"
    risk = (
        f"risk of breakdown {person.risk_rating}"
        if person.risk_rating
        else "not rated while in hospital"
    )
    return f"Status updated for {person.display_name}: {status}, {risk}."


def _quick_done(request: HttpRequest, pk: int, origin: str) -> HttpResponse:
    if not request.htmx:
        messages.success(request, "The new status was recorded.")
        if origin == "list":
            return redirect(safe_next(request, reverse("registers:person_list")))
        return redirect("registers:person_detail", pk=pk)
    if origin == "list":
        person = selectors.person_row(request.user, pk)
        [row] = person_rows(
            [row_values(person)],
            user=request.user,
            today=timezone.localdate(),
            list_path=request.get_full_path(),
        )
        return HttpResponse(row.html(_status_sentence(person)))
    page = selectors.person_page(request.user, pk)
    context = detail_context(request, page) | {
        "updated": _status_sentence(page.person),
        "oob_timeline": True,  # the new entry joins the timeline further down the page
    }
    return render(request, "registers/_status_and_timeline.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def review_record(request: HttpRequest, pk: int) -> HttpResponse:
    def save(person: Person, form: ReviewForm) -> None:
        data = form.cleaned_data
        services.record_review(
            request.user,
            person,
            version=data["version"],
            review_date=data["review_date"],
            attendees=data["attendees"],
            outcome=data["outcome"],
            actions=data.get("actions") or "",
            next_review_due=data.get("next_review_due"),
        )

    return person_form_page(
        request,
        pk,
        form_class=ReviewForm,
        template="registers/review_form.html",
        initial=lambda person: {"version": person.version, "review_date": timezone.localdate()},
        save=save,
        success="The review was recorded.",
    )
