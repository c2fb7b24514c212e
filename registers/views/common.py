"""What the register's pages share: the current authority's id, a safe return address, the
stale-version explanation, the one shape of a person's edit pages, and the person page's context."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from .. import access, selectors, services
from ..audit import AuditAction
from ..current_authority import current_authority
from ..forms import QuickStatusForm, attach_errors, status_value
from ..models import Person
from ..timeline import timeline


def authority_id_of(request: HttpRequest) -> int | None:
    authority = current_authority(request)
    return authority.pk if authority else None


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def stale_context(
    request: HttpRequest, person: Person, form_class: type, version: int, **kw: Any
) -> tuple[Any, dict[str, Any]]:
    """Rebind the form at the record's current version, keeping what the user typed, and say
    what the other person changed. Nothing was saved; a second submit is a conscious choice."""
    data = request.POST.copy()
    data["version"] = str(person.version)
    form = form_class(data, **kw)
    form.is_valid()
    form.add_error(
        None,
        "Someone else changed this record since you opened it, and nothing was saved. "
        "Their changes are listed below. If your change is still right, submit it again.",
    )
    return form, {"stale_changes": selectors.changes_since(request.user, person, version)}


def person_form_page(
    request: HttpRequest,
    pk: int,
    *,
    form_class: type,
    template: str,
    initial: Any,
    save: Any,
    success: str,
    form_kwargs: Any = None,
    audit_view: AuditAction | None = None,
) -> HttpResponse:
    """The shared shape of the person's edit pages: load for writing, bind, save, explain."""
    person = access.person_for_write(request.user, pk)
    if person.date_left is not None:
        raise Http404("This person has left the register.")
    kwargs = form_kwargs(person) if form_kwargs else {}
    form = form_class(request.POST or None, initial=initial(person), **kwargs)
    extra: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        version = form.cleaned_data["version"]
        try:
            save(person, form)
        except services.StaleVersion:
            person.refresh_from_db()
            form, extra = stale_context(request, person, form_class, version, **kwargs)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect("registers:person_detail", pk=person.pk)
    if audit_view:  # the page shows identifying fields: one event each time it is shown
        selectors.record_read(request.user, audit_view, person)
    return render(request, template, {"form": form, "person": person, **extra})


def detail_context(request: HttpRequest, page: selectors.PersonPage) -> dict[str, Any]:
    person = page.person
    writable = access.can_change(request.user, person)
    return {
        "person": person,
        "timeline": timeline(page.history, page.locality_names),
        "reviews": page.reviews,
        "can_write": writable,
        "quick_form": quick_form(person) if writable else None,
        "long_stay_days": settings.DSR_LONG_HOSPITAL_STAY_DAYS,
        "today": timezone.localdate(),
        "transfers": page.transfers,
    }


def quick_form(person: Person) -> QuickStatusForm:
    # Ids unique per person: the form sits in a list row beside the filter form's own fields.
    return QuickStatusForm(initial=quick_initial(person), auto_id=quick_ids(person.pk))


def quick_ids(pk: int) -> str:
    return f"quick{pk}_%s"


def quick_initial(person: Person) -> dict[str, Any]:
    return {
        "status": status_value(person.category, person.urgent_reason),
        "risk_rating": person.risk_rating,
        "version": person.version,
    }
