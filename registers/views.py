from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors
from .audit import record_event
from .codes import Category


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    people = selectors.visible_people(request.user)
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    counts = selectors.category_counts(request.user)
    return render(
        request,
        "registers/person_list.html",
        {
            "page": page,
            "counts": [(c.label, counts.get(c.value, 0)) for c in Category],
            "total": sum(counts.values()),
        },
    )


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_detail(request.user, pk)
    record_event(request.user, "person.viewed", obj=person)
    return render(request, "registers/person_detail.html", {"person": person})
