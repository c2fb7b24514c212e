"""Transfers between authorities: requested from the person's page, decided by the receiving
lead, cancelled by the sending authority."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..audit import AuditAction
from ..forms import (
    AcceptTransferForm,
    DeclineTransferForm,
    TransferForm,
    attach_errors,
)
from ..models import Person
from .common import (
    authority_id_of,
    person_form_page,
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

    return person_form_page(
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
    authority_id = authority_id_of(request)
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
    localities = selectors.localities_for(
        request.user, active=True, authority_id=transfer.to_authority_id
    )
    accept = AcceptTransferForm(
        request.POST if request.POST.get("decision") == "accept" else None, localities=localities
    )
    decline = DeclineTransferForm(
        request.POST if request.POST.get("decision") == "decline" else None
    )
    confirmed = request.POST.get("confirmed") == "yes"
    # A valid decision is shown back for confirmation first: neither can be undone.
    for decision, form in (("accept", accept), ("decline", decline)):
        if request.method == "POST" and form.is_bound and form.is_valid() and not confirmed:
            context = {"transfer": transfer, "decision": decision, "form": form}
            return render(request, "registers/transfer_decide_confirm.html", context)
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
    selectors.record_read(
        request.user,
        AuditAction.TRANSFER_SUMMARY_VIEWED,
        transfer,
        authority_id=transfer.to_authority_id,
    )
    return render(
        request,
        "registers/transfer_decide.html",
        {"transfer": transfer, "accept": accept, "decline": decline},
    )


@login_required
@require_POST
def transfer_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = selectors.transfer_to_cancel(request.user, pk, authority_id=authority_id_of(request))
    try:
        services.cancel_transfer(request.user, transfer)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The transfer was cancelled.")
    return redirect("registers:person_detail", pk=transfer.person_id)
