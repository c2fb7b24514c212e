"""Pages for census returns and their files. Thin: parse, call a selector or service, render."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from registers import access
from registers.validation import safe_download_name

from . import figures, selectors, services
from .census import return_deadline
from .documents import grid_sheet
from .models import NATIONAL_KINDS, PUBLISHED_NATIONAL_KINDS, JobKind

AUTHORITY_FILES = (JobKind.AUTHORITY_CSV, JobKind.AUTHORITY_XLSX, JobKind.AUTHORITY_PDF)


def _errors(exc: ValidationError) -> list[str]:
    return exc.messages


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where sign-in lands: the national page for the national analyst (who has no register),
    the register for everyone else."""
    if access.is_national(request.user):
        return redirect("reporting:national", census_date=selectors.national_landing_date())
    return redirect("registers:person_list")


@login_required
def index(request: HttpRequest) -> HttpResponse:
    lines = selectors.census_overview(request.user)
    context = {"lines": lines, "today": timezone.localdate()}
    return render(request, "reporting/index.html", context)


@login_required
def authority_return(request: HttpRequest, authority_id: int, census_date: dt.date) -> HttpResponse:
    authority = access.authority_for_member(request.user, authority_id)
    ret = selectors.authority_return(request.user, authority_id, census_date)
    tables = ret.tables if ret else []
    movement = next((t for t in tables if t["key"] == "category_movement"), None)
    context = {
        "authority": authority,
        "census_date": census_date,
        "ret": ret,
        "movement": figures.movement_view(movement, area=authority.name, chart_id="movement"),
        "sheets": [grid_sheet(t) for t in ret.tables] if ret else [],
        "people_with_warnings": selectors.people_with_warnings(request.user, ret) if ret else [],
        "is_lead": access.is_lead(request.user, authority_id),
        "jobs": selectors.jobs_for_return(request.user, authority_id, census_date),
        "file_kinds": [(k.value, k.label) for k in AUTHORITY_FILES],
    }
    return render(request, "reporting/return.html", context)


def _queue(request: HttpRequest, back: str, **kwargs) -> HttpResponse:
    try:
        job = services.request_job(request.user, **kwargs)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
        return redirect(back)
    # No "queued" message here: the job page says the job's state itself, and a build can finish
    # before the page is shown.
    return redirect("reporting:job", pk=job.pk)


@login_required
@require_POST
def build_return(request: HttpRequest, authority_id: int, census_date: dt.date) -> HttpResponse:
    authority = access.authority_for_member(request.user, authority_id)
    return _queue(
        request,
        reverse("reporting:return", args=[authority_id, census_date]),
        kind=JobKind.AUTHORITY_RETURN,
        authority=authority,
        census_date=census_date,
    )


@login_required
@require_POST
def request_authority_file(
    request: HttpRequest, authority_id: int, census_date: dt.date
) -> HttpResponse:
    authority = access.authority_for_member(request.user, authority_id)
    kind = request.POST.get("kind")
    if kind not in AUTHORITY_FILES:
        messages.error(request, "Choose a file to build.")
        return redirect("reporting:return", authority_id=authority_id, census_date=census_date)
    return _queue(
        request,
        reverse("reporting:return", args=[authority_id, census_date]),
        kind=kind,
        authority=authority,
        census_date=census_date,
    )


@login_required
@require_POST
def submit_return(request: HttpRequest, authority_id: int, census_date: dt.date) -> HttpResponse:
    """Submit the return, after a confirmation page (a submitted return cannot be changed)."""
    ret = selectors.authority_return(request.user, authority_id, census_date)
    if ret is None:
        raise Http404("No return to submit.")
    if request.POST.get("confirmed") != "yes":
        return render(request, "reporting/submit_confirm.html", {"ret": ret})
    try:
        services.submit_return(request.user, ret)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, "Return submitted to the national team.")
    return redirect("reporting:return", authority_id=authority_id, census_date=census_date)


@login_required
def national(request: HttpRequest, census_date: dt.date) -> HttpResponse:
    statuses = selectors.national_status(request.user, census_date)
    included = sum(1 for _, r in statuses if r and r.is_locked)
    today = timezone.localdate()
    flagged = [(a, r, selectors.return_flag(r, census_date, today)) for a, r in statuses]
    context = {
        "census_date": census_date,
        "statuses": flagged,
        "deadline": return_deadline(census_date),
        "overdue": sum(1 for _, _, flag in flagged if flag == "overdue"),
        "included": included,
        "jobs": selectors.national_jobs(request.user, census_date),
        "blocker": services.national_build_blocker(census_date, included=included),
        "file_kinds": [(k.value, k.label) for k in NATIONAL_KINDS],
    }
    return render(request, "reporting/national.html", context)


@login_required
def national_figures(request: HttpRequest, census_date: dt.date) -> HttpResponse:
    """Headline counts, trends and movement for Scotland and each authority, read from the
    latest built national release of each census date: the screen shows exactly what a
    national file published (suppression included) and never computes disclosure control in the
    request. A date without a release says so, with the build action."""
    found = selectors.national_figures(request.user, census_date)
    job = found.release
    release = job.release if job else None
    headlines = release["headlines"] if release else None
    included = services.included_returns_count(census_date)
    context = {
        "census_date": census_date,
        "job": job,
        "release": release,
        "headlines": headlines,
        "labels": figures.headline_labels(),
        "scotland": list(headlines["scotland"].values()) if headlines else [],
        "included_now": included,
        "charts": figures.trend_charts(figures.trend(found.dates, found.headlines)),
        "movement": figures.movement_view(
            figures.release_movement(release) if release else None,
            area="Scotland",
            chart_id="movement",
        ),
        "blocker": services.national_build_blocker(census_date, included=included),
        "file_kinds": [(k.value, k.label) for k in PUBLISHED_NATIONAL_KINDS],
    }
    return render(request, "reporting/national_figures.html", context)


@login_required
@require_POST
def request_national_file(request: HttpRequest, census_date: dt.date) -> HttpResponse:
    selectors.national_status(request.user, census_date)  # 404 unless national analyst
    kind = request.POST.get("kind")
    if kind not in NATIONAL_KINDS:
        messages.error(request, "Choose a file to build.")
        return redirect("reporting:national", census_date=census_date)
    back = reverse("reporting:national", args=[census_date])
    return _queue(request, back, kind=kind, census_date=census_date)


@login_required
def remind_lead(request: HttpRequest, census_date: dt.date, pk: int) -> HttpResponse:
    """Ask an authority's lead for a return not yet submitted: a confirmation page, then (POST,
    confirmed) the email, sent at most once a day."""
    statuses = selectors.national_status(request.user, census_date)  # 404 unless analyst
    found = next(((a, r) for a, r in statuses if a.pk == pk), None)
    if found is None:
        raise Http404("No such authority.")
    authority, ret = found
    back = reverse("reporting:national", args=[census_date])
    if request.method != "POST" or request.POST.get("confirmed") != "yes":
        context = {"authority": authority, "ret": ret, "census_date": census_date}
        return render(request, "reporting/remind_confirm.html", context)
    try:
        services.request_return_reminder(request.user, authority_id=pk, census_date=census_date)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, f"{authority.name}: a reminder is on its way to the lead.")
    return redirect(back)


@login_required
def national_return(request: HttpRequest, pk: int) -> HttpResponse:
    """One authority's return as the national team receives it (aggregates only), with the
    decision forms: the analyst sees the figures before accepting or sending back."""
    ret = selectors.return_for_decision(request.user, pk)
    context = {"ret": ret, "sheets": [grid_sheet(t) for t in ret.tables]}
    return render(request, "reporting/national_return.html", context)


@login_required
@require_POST
def decide_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept or send back, after a confirmation page (nothing changes until it is confirmed)."""
    ret = selectors.return_for_decision(request.user, pk)
    decision = "accept" if request.POST.get("decision") == "accept" else "send_back"
    comment = request.POST.get("comment", "").strip()
    if decision == "send_back" and not comment:
        messages.error(request, f"{ret.authority.name}: Say what the authority needs to correct.")
        return redirect("reporting:national_return", pk=ret.pk)
    if request.POST.get("confirmed") != "yes":
        context = {"ret": ret, "decision": decision, "comment": comment}
        return render(request, "reporting/decide_confirm.html", context)
    try:
        if decision == "accept":
            services.accept_return(request.user, ret)
            messages.success(request, f"{ret.authority.name}: return accepted.")
        else:
            services.send_back_return(request.user, ret, comment=comment)
            messages.success(request, f"{ret.authority.name}: return sent back.")
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, f"{ret.authority.name}: {message}")
    return redirect("reporting:national", census_date=ret.census_date)


@login_required
def person_profile(request: HttpRequest, person_id: int) -> HttpResponse:
    if request.method == "POST":
        person = access.person_for_read(request.user, person_id)
        return _queue(request, request.path, kind=JobKind.PERSON_PROFILE, person=person)
    person, jobs = selectors.profile_page(request.user, person_id)
    return render(request, "reporting/profile.html", {"person": person, "jobs": jobs})


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = services.fail_if_stuck(selectors.job_for_user(request.user, pk))
    template = "reporting/_job.html" if request.htmx else "reporting/job.html"
    return render(request, template, {"job": job})


@login_required
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_for_user(request.user, pk)
    if job.is_expired:
        # Gone for good (personal data is not kept): say so, and where to build it again.
        context = {"job": job, "retention_days": settings.DSR_FILE_RETENTION_DAYS}
        return render(request, "reporting/job_expired.html", context, status=410)
    if not job.has_file:
        raise Http404("This file is not ready.")
    return FileResponse(
        selectors.open_download(request.user, job),
        as_attachment=True,
        filename=safe_download_name(job.filename),
    )


@login_required
@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_for_user(request.user, pk)
    try:
        services.retry_job(request.user, job)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    return redirect("reporting:job", pk=job.pk)


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_for_user(request.user, pk)
    try:
        services.cancel_job(request.user, job)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, "The build was cancelled.")
    return redirect("reporting:job", pk=job.pk)
