"""The register as a whole: the list and its search, reviews due, the lead's dashboard and audit
trail, and choosing which authority to work in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import access, charts, selectors
from ..codes import Category, UrgentReason
from ..current_authority import choose_authority
from ..filters import AuditEventFilter, PersonFilter
from ..models import Person
from ..rows import person_rows
from .common import (
    authority_id_of,
)

REVIEW_WINDOW_DAYS = 28

COUNT_ROWS = [
    (Category.URGENT.value, "Urgent"),
    (f"urgent:{UrgentReason.IN_HOSPITAL}", "In hospital"),
    (f"urgent:{UrgentReason.INAPPROPRIATE_OUT_OF_AREA}", "Inappropriate out of area"),
    (f"urgent:{UrgentReason.AT_RISK_OF_BREAKDOWN}", "At risk of breakdown"),
    (Category.ENHANCED_MONITORING.value, "Enhanced monitoring"),
    (Category.APPROPRIATE_OUT_OF_AREA.value, "Appropriate out of area"),
]


def _counts(request: HttpRequest, people: QuerySet[Person] | None = None) -> dict[str, Any]:
    if people is None:
        counts = selectors.category_counts(request.user, authority_id=authority_id_of(request))
    else:
        counts = selectors.counts_by_category(people)
    return _count_rows(counts)


def _count_rows(counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.get(c.value, 0) for c in Category)
    return {"rows": [(key, label, counts.get(key, 0)) for key, label in COUNT_ROWS], "total": total}


# The count cards count within the other filters (search, locality, risk, caseload...), so each is
# a link that narrows the list by its category and keeps the rest of the query.
CATEGORY_KEYS = {"category", "urgent_reason"}


def _count_cards(request: HttpRequest, counts: dict[str, Any]) -> dict[str, Any]:
    base = request.GET.copy()
    for key in (*CATEGORY_KEYS, "page"):
        base.pop(key, None)
    chosen = (request.GET.get("category", ""), request.GET.get("urgent_reason", ""))
    if chosen[1] and not chosen[0]:
        chosen = (Category.URGENT.value, chosen[1])

    def link(category: str = "", reason: str = "") -> str:
        query = base.copy()
        if category:
            query["category"] = category
        if reason:
            query["urgent_reason"] = reason
        encoded = query.urlencode()
        return "?" + encoded if encoded else "?"

    cards = []
    for key, label, n in counts["rows"]:
        category, _, reason = key.partition(":")
        if reason:
            category = Category.URGENT.value
        cards.append(
            {
                "key": key,
                "label": label,
                "n": n,
                "sub": bool(reason),
                "url": link(category, reason),
                "current": chosen == (category, reason),
            }
        )
    narrowed = any(any(values) for key, values in base.lists() if key != "sort")
    return {
        "total": counts["total"],
        "total_url": link(),
        "total_current": chosen == ("", ""),
        "narrowed": narrowed,
        "cards": cards,
    }


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    people = selectors.register_people(request.user, authority_id=authority_id_of(request))
    filters = PersonFilter(request.GET or None, queryset=people, request=request)
    other = {
        key: [v for v in values if v]
        for key, values in request.GET.lists()
        if key not in CATEGORY_KEYS | {"page", "sort"} and any(values)
    }
    asked = {key: values for key, values in request.GET.lists() if key not in {"page", "sort"}}
    filtered = bool(request.GET.dict().keys() - {"page", "sort"})
    search = filters.form.cleaned_data.get("q") if filters.is_bound and filters.is_valid() else ""
    rows = selectors.row_columns(filters.qs)
    if other and asked == other:
        # No category asked for and no blank value: the counts' filters are the list's own (the
        # sort only orders), so one scan of the list gives both.
        page, found = selectors.counted_page(
            filters.qs, request.GET.get("page"), per_page=settings.DSR_PAGE_SIZE, rows=rows
        )
        counts = _count_rows(found)
        selectors.record_search(request.user, page, search, authority_id=authority_id_of(request))
    else:
        if other:
            data = QueryDict(mutable=True)
            for key, values in other.items():
                data.setlist(key, values)
            counts = _counts(request, PersonFilter(data, queryset=people, request=request).qs)
        else:
            counts = _counts(request)
        page = selectors.searched_page(
            request.user,
            filters.qs,
            request.GET.get("page"),
            per_page=settings.DSR_PAGE_SIZE,
            # Unfiltered, the list is the whole register: its size is the counts' total.
            count=None if filtered else counts["total"],
            search=search,
            authority_id=authority_id_of(request),
            rows=rows,
        )
    query = request.GET.copy()
    query.pop("page", None)
    today = timezone.localdate()
    context = {
        "filters": filters,
        "form": filters.form,
        "page": page,
        "rows": person_rows(
            page.object_list,
            user=request.user,
            today=today,
            list_path=request.get_full_path(),
        ),
        "query": query.urlencode(),
        "counts": counts,
        "cards": _count_cards(request, counts),
        "localities": selectors.localities_for(request.user, authority_id=authority_id_of(request)),
        "filtered": filtered,
        "today": today,
    }
    template = "registers/_results.html" if request.htmx else "registers/person_list.html"
    return render(request, template, context)


@login_required
def reviews_due(request: HttpRequest) -> HttpResponse:
    people = selectors.reviews_due(
        request.user, authority_id=authority_id_of(request), within_days=REVIEW_WINDOW_DAYS
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
        {
            "form": filters.form,
            "page": page,
            "entries": selectors.audit_entries(list(page.object_list)),
            "query": query.urlencode(),
            "authority": authority,
        },
    )
