"""Pages for the register's files and data protection: import, export, subject access, erasing an
entry added in error. Lead only.

Thin, like the other pages in registers/views/: the work is in registers/imports.py and
registers/data_protection.py.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST

from .. import access, data_protection, imports, selectors, services
from ..forms import EraseEntryForm, attach_errors
from ..models import ImportStatus
from ..validation import safe_download_name

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Register file",
        help_text="A CSV (UTF-8) or Excel .xlsx file in the register's layout",
        error_messages={"required": "Choose a CSV or Excel file to import."},
    )


def _download(content: bytes, filename: str, file_format: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES.get(file_format, file_format))
    response["Content-Disposition"] = content_disposition_header(True, safe_download_name(filename))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def register_files(request: HttpRequest) -> HttpResponse:
    """Import a register file (check, then confirm), download the template, export."""
    authority = access.led_authority(request)
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = imports.stage_import(request.user, authority, filename=upload.name, file=upload)
        except imports.ImportRefused as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("registers:import_batch", pk=batch.pk)
    return render(
        request,
        "registers/register_files.html",
        {
            "form": form,
            "authority": authority,
            "batches": selectors.import_batches(request.user, authority_id=authority.pk),
            "columns": imports.COLUMNS,
            "max_bytes": imports.max_bytes(),
        },
    )


@login_required
def import_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_batch(request.user, pk)
    return render(
        request,
        "registers/import_batch.html",
        {"batch": batch, "staged": batch.status == ImportStatus.STAGED},
    )


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_batch(request.user, pk)
    if request.POST.get("decision") == "discard":
        imports.discard_import(request.user, batch)
        messages.success(request, "The import was discarded; nothing was changed.")
        return redirect("registers:register_files")
    try:
        batch = imports.apply_import(request.user, batch)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("registers:import_batch", pk=batch.pk)
    if batch.status == ImportStatus.APPLIED:
        counts = batch.counts
        messages.success(
            request,
            f"The register was imported: {counts['new']} added, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged.",
        )
    return redirect("registers:import_batch", pk=batch.pk)


@login_required
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_batch(request.user, pk)
    return _download(imports.errors_csv(batch), f"dsr-import-{batch.pk}-errors.csv", "csv")


@login_required
def import_template(request: HttpRequest, file_format: str) -> HttpResponse:
    access.led_authority(request)
    rows = imports.template_rows()
    build = imports.render_csv if file_format == "csv" else imports.render_xlsx
    content = build(rows)
    return _download(content, f"dsr-register-template.{file_format}", file_format)


@login_required
def register_export(request: HttpRequest, file_format: str) -> HttpResponse:
    authority = access.led_authority(request)
    content = imports.export_register(request.user, authority, file_format=file_format)
    return _download(content, f"dsr-register-{authority.code}.{file_format}", file_format)


@login_required
def register_export_readable(request: HttpRequest, file_format: str) -> HttpResponse:
    """The register for people to read: labels, not codes (not for importing back)."""
    authority = access.led_authority(request)
    content = imports.export_register(
        request.user, authority, file_format=file_format, readable=True
    )
    return _download(content, f"dsr-register-{authority.code}-readable.{file_format}", file_format)


@login_required
@require_http_methods(["GET", "POST"])
def subject_access(request: HttpRequest, pk: int) -> HttpResponse:
    """A page that explains the export; the download itself is a POST (it is audited)."""
    person = access.person_for_read(request.user, pk)
    access.require_lead(request.user, person.authority_id)
    if request.method == "POST":
        content, filename = data_protection.subject_access_report(request.user, pk)
        return _download(content, filename, "application/pdf")
    return render(request, "registers/subject_access.html", {"person": person})


@login_required
@require_http_methods(["GET", "POST"])
def erase_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Erasing an entry added in error takes two steps: the reason, then a confirmation page.
    When the entry can no longer be erased, the page says why and what to do instead."""
    person = access.person_for_erasure(request.user, pk)
    refusal = data_protection.erasure_refusal(person)
    form = EraseEntryForm(request.POST or None, initial={"version": person.version})
    context: dict[str, Any] = {
        "person": person,
        "form": form,
        "refusal": refusal,
        "erasable_until": data_protection.erasable_until(person),
        "window_days": settings.DSR_ERASURE_WINDOW_DAYS,
    }
    if refusal is not None or request.method != "POST" or not form.is_valid():
        return render(request, "registers/erase_entry.html", context)
    if request.POST.get("confirmed") != "yes":
        return render(request, "registers/erase_entry_confirm.html", context)
    try:
        data_protection.erase_entry(
            request.user,
            person,
            version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )
    except services.StaleVersion as exc:
        form.add_error(None, str(exc))
    except ValidationError as exc:
        attach_errors(form, exc)
    else:
        messages.success(
            request, "The entry was erased. The audit log records the erasure and why."
        )
        return redirect("registers:person_list")
    return render(request, "registers/erase_entry.html", context)
