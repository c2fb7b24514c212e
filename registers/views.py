"""The register's pages. Thin: parse the form, call a selector or a service, render.

Every person is reached through `access.person_for_read/_for_write` (out of scope is 404); every
change goes through registers/services/, with the version the form was opened at, so a
concurrent edit is refused and explained instead of overwritten.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from . import access, charts, selectors, services
from .audit import record_event
from .codes import Category, UrgentReason
from .current_authority import choose_authority, current_authority
from .filters import AuditEventFilter, PersonFilter
from .forms import (
    AcceptTransferForm,
    AddPersonForm,
    DeclineTransferForm,
    DetailsForm,
    LeaveForm,
    MoveLocalityForm,
    QuickStatusForm,
    ReviewForm,
    StatusForm,
    TransferForm,
    attach_errors,
    status_value,
)
from .models import Locality, Person

REVIEW_WINDOW_DAYS = 28

COUNT_ROWS = [
    (Category.URGENT.value, "Urgent"),
    (f"urgent:{UrgentReason.IN_HOSPITAL}", "In hospital"),
    (f"urgent:{UrgentReason.INAPPROPRIATE_OUT_OF_AREA}", "Inappropriate out of area"),
    (f"urgent:{UrgentReason.AT_RISK_OF_BREAKDOWN}", "At risk of breakdown"),
    (Category.ENHANCED_MONITORING.value, "Enhanced monitoring"),
    (Category.APPROPRIATE_OUT_OF_AREA.value, "Appropriate out of area"),
]


def _authority_id(request: HttpRequest) -> int | None:
    authority = current_authority(request)
    return authority.pk if authority else None


def _counts(request: HttpRequest) -> dict[str, Any]:
    counts = selectors.category_counts(request.user, authority_id=_authority_id(request))
    total = sum(counts.get(c.value, 0) for c in Category)
    return {"rows": [(key, label, counts.get(key, 0)) for key, label in COUNT_ROWS], "total": total}


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    people = selectors.register_people(request.user, authority_id=_authority_id(request))
    filters = PersonFilter(request.GET or None, queryset=people)
    counts = _counts(request)
    filtered = bool(request.GET.dict().keys() - {"page", "sort"})
    page = selectors.page_of_people(
        filters.qs,
        request.GET.get("page"),
        per_page=settings.DSR_PAGE_SIZE,
        # Unfiltered, the list is the whole register: its size is the counts' total.
        count=None if filtered else counts["total"],
    )
    search = filters.form.cleaned_data.get("q") if filters.is_bound and filters.is_valid() else ""
    if search:
        # A search, by CHI number above all, reads identifying data: one event per results page.
        record_event(
            request.user,
            "people.searched",
            authority_id=_authority_id(request),
            changes={
                "by_chi_number": any(word.isdigit() for word in search.split()),
                "people": [person.pk for person in page],
            },
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "form": filters.form,
        "page": page,
        "query": query.urlencode(),
        "counts": counts,
        "localities": selectors.localities_for(request.user).filter(
            authority_id=_authority_id(request)
        ),
        "filtered": filtered,
        "today": timezone.localdate(),
    }
    template = "registers/_results.html" if request.htmx else "registers/person_list.html"
    return render(request, template, context)


def _detail_context(request: HttpRequest, person: Person) -> dict[str, Any]:
    writable = access.can_change(request.user, person)
    return {
        "person": person,
        "can_write": writable,
        "quick_form": _quick_form(person) if writable else None,
        "long_stay_days": settings.DSR_LONG_HOSPITAL_STAY_DAYS,
        "today": timezone.localdate(),
        "transfers": list(person.transfers.select_related("to_authority").all()),
        "locality_names": dict(
            Locality.objects.filter(authority_id=person.authority_id).values_list("pk", "name")
        ),
    }


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_detail(request.user, pk)
    record_event(request.user, "person.viewed", obj=person)
    return render(request, "registers/person_detail.html", _detail_context(request, person))


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
    authority_id = _authority_id(request)
    localities = (
        selectors.localities_for(request.user, write=True)
        .active()
        .filter(authority_id=authority_id)
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


def _stale_context(
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


def _person_form_page(
    request: HttpRequest,
    pk: int,
    *,
    form_class: type,
    template: str,
    initial: Any,
    save: Any,
    success: str,
    form_kwargs: Any = None,
    audit_view: str | None = None,
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
            form, extra = _stale_context(request, person, form_class, version, **kwargs)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect("registers:person_detail", pk=person.pk)
    if audit_view:  # the page shows identifying fields: one event each time it is shown
        record_event(request.user, audit_view, obj=person)
    return render(request, template, {"form": form, "person": person, **extra})


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

    return _person_form_page(
        request,
        pk,
        form_class=DetailsForm,
        template="registers/person_edit.html",
        initial=_details_initial,
        save=save,
        success="The person's details were saved.",
        audit_view="person.edit_viewed",
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

    return _person_form_page(
        request,
        pk,
        form_class=StatusForm,
        template="registers/person_status.html",
        initial=_status_initial,
        save=save,
        success="The status change was recorded.",
        form_kwargs=lambda person: {"authority_id": person.authority_id},
    )


def _quick_form(person: Person) -> QuickStatusForm:
    # Ids unique per person: the form sits in a list row beside the filter form's own fields.
    return QuickStatusForm(initial=_quick_initial(person), auto_id=_quick_ids(person.pk))


def _quick_ids(pk: int) -> str:
    return f"quick{pk}_%s"


def _open_for_quick_update(request: HttpRequest, pk: int) -> Person:
    person = access.person_for_write(request.user, pk)
    if person.date_left is not None:
        raise Http404("This person has left the register.")
    return person


def _quick_initial(person: Person) -> dict[str, Any]:
    return {
        "status": status_value(person.category, person.urgent_reason),
        "risk_rating": person.risk_rating,
        "version": person.version,
    }


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
        form = QuickStatusForm(request.POST, auto_id=_quick_ids(pk))
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
                form, extra = _stale_context(
                    request, person, QuickStatusForm, data["version"], auto_id=_quick_ids(pk)
                )
            except ValidationError as exc:
                attach_errors(form, exc)
                extra["needs_full_form"] = True
            else:
                return _quick_done(request, pk, origin)
        person = person or _open_for_quick_update(request, pk)
    else:
        person = _open_for_quick_update(request, pk)
        form = _quick_form(person)
    context = {
        "form": form,
        "person": person,
        "origin": origin,
        "next_url": _safe_next(request, ""),
        **extra,
    }
    if request.htmx and origin == "list":
        return render(request, "registers/_quick_row.html", context)
    if request.htmx:
        detail = _detail_context(request, selectors.person_detail(request.user, pk))
        return render(
            request, "registers/_status_and_timeline.html", context | detail | {"quick_form": form}
        )
    return render(request, "registers/person_quick_status.html", context)


def _quick_done(request: HttpRequest, pk: int, origin: str) -> HttpResponse:
    message = "The new status was recorded."
    if not request.htmx:
        messages.success(request, message)
        if origin == "list":
            return redirect(_safe_next(request, reverse("registers:person_list")))
        return redirect("registers:person_detail", pk=pk)
    if origin == "list":
        return render(
            request,
            "registers/_person_row.html",
            {
                "person": selectors.person_row(request.user, pk),
                "today": timezone.localdate(),
                "updated": message,
            },
        )
    person = selectors.person_detail(request.user, pk)
    context = _detail_context(request, person) | {"updated": message}
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

    return _person_form_page(
        request,
        pk,
        form_class=ReviewForm,
        template="registers/review_form.html",
        initial=lambda person: {"version": person.version, "review_date": timezone.localdate()},
        save=save,
        success="The review was recorded.",
    )


@login_required
def reviews_due(request: HttpRequest) -> HttpResponse:
    people = selectors.reviews_due(
        request.user, authority_id=_authority_id(request), within_days=REVIEW_WINDOW_DAYS
    )
    page = selectors.page_of_people(
        people, request.GET.get("page"), per_page=settings.DSR_PAGE_SIZE
    )
    return render(
        request,
        "registers/reviews_due.html",
        {"page": page, "today": timezone.localdate(), "window": REVIEW_WINDOW_DAYS},
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
            form, extra = _stale_context(request, person, LeaveForm, data["version"])
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

    return _person_form_page(
        request,
        pk,
        form_class=MoveLocalityForm,
        template="registers/person_move.html",
        initial=lambda person: {"version": person.version},
        save=save,
        success="The person was moved to the new locality.",
        form_kwargs=lambda person: {
            "localities": selectors.localities_for(request.user, write=True)
            .active()
            .filter(authority_id=person.authority_id)
            .exclude(pk=person.locality_id)
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def transfer_request(request: HttpRequest, pk: int) -> HttpResponse:
    def save(person: Person, form: TransferForm) -> None:
        services.request_transfer(
            request.user,
            person,
            version=form.cleaned_data["version"],
            to_authority=form.cleaned_data["to_authority"],
            reason=form.cleaned_data["reason"],
        )

    return _person_form_page(
        request,
        pk,
        form_class=TransferForm,
        template="registers/transfer_form.html",
        initial=lambda person: {"version": person.version},
        save=save,
        success="The transfer was requested. The person stays on your register until the "
        "receiving authority's lead accepts.",
        form_kwargs=lambda person: {"authority_id": person.authority_id},
    )


@login_required
def transfers(request: HttpRequest) -> HttpResponse:
    authority_id = _authority_id(request)
    return render(
        request,
        "registers/transfers.html",
        {
            "incoming": selectors.transfers_in(request.user, authority_id=authority_id),
            "outgoing": selectors.transfers_out(request.user, authority_id=authority_id),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def transfer_decide(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = selectors.transfer_for_decision(request.user, pk)
    localities = (
        selectors.localities_for(request.user)
        .active()
        .filter(authority_id=transfer.to_authority_id)
    )
    accept = AcceptTransferForm(
        request.POST if request.POST.get("decision") == "accept" else None, localities=localities
    )
    decline = DeclineTransferForm(
        request.POST if request.POST.get("decision") == "decline" else None
    )
    if request.method == "POST" and accept.is_bound and accept.is_valid():
        try:
            person = services.accept_transfer(request.user, transfer, **accept.cleaned_data)
        except ValidationError as exc:
            attach_errors(accept, exc)
        else:
            messages.success(request, f"{person.display_name} is now on your register.")
            return redirect("registers:person_detail", pk=person.pk)
    if request.method == "POST" and decline.is_bound and decline.is_valid():
        try:
            services.decline_transfer(request.user, transfer, note=decline.cleaned_data["note"])
        except ValidationError as exc:
            attach_errors(decline, exc)
        else:
            messages.success(request, "The transfer was declined.")
            return redirect("registers:transfers")
    # The page shows the person summary (name, date of birth, CHI number) to the receiving lead.
    record_event(
        request.user,
        "transfer.summary_viewed",
        authority_id=transfer.to_authority_id,
        obj=transfer,
    )
    return render(
        request,
        "registers/transfer_decide.html",
        {"transfer": transfer, "accept": accept, "decline": decline},
    )


@login_required
@require_POST
def transfer_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = (
        selectors.transfers_out(request.user, authority_id=_authority_id(request))
        .filter(pk=pk)
        .first()
    )
    if transfer is None:
        raise Http404("No such transfer.")
    try:
        services.cancel_transfer(request.user, transfer)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The transfer was cancelled.")
    return redirect("registers:person_detail", pk=transfer.person_id)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    authority = access.led_authority(request)
    counts = _counts(request)
    trend = selectors.monthly_trend(request.user, authority_id=authority.pk)
    return render(
        request,
        "registers/dashboard.html",
        {
            "counts": counts,
            "bars": charts.bar_chart([(label, n) for _, label, n in counts["rows"]]),
            "trend": trend,
            "chart": charts.trend_chart(trend),
        },
    )


@login_required
@require_POST
def switch_authority(request: HttpRequest) -> HttpResponse:
    try:
        authority_id = int(request.POST.get("authority", ""))
    except ValueError:
        authority_id = 0
    authority = choose_authority(request, authority_id)
    if authority is None:
        raise Http404("No such authority in your scope.")
    messages.success(request, f"You are now working in {authority.name}.")
    return redirect("registers:person_list")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The authority's audit trail for its lead: filter by who, what, person and dates."""
    authority = access.led_authority(request)
    events = selectors.audit_events(request.user, authority_id=authority.pk)
    filters = AuditEventFilter(request.GET or None, queryset=events, authority_id=authority.pk)
    page = Paginator(filters.qs, settings.DSR_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registers/audit_log.html",
        {"form": filters.form, "page": page, "query": query.urlencode(), "authority": authority},
    )
