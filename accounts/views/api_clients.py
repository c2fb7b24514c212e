"""API clients: the lead's local case-management systems. A token is shown once, on the page that
answers its creation or rotation, and never again (only its hash is kept). The rules and the audit
are in accounts/services.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from registers import access
from registers.forms import attach_errors

from .. import selectors, services
from ..forms import ApiClientForm
from ..models import ApiClient


def _api_client(request: HttpRequest, pk: int) -> ApiClient:
    authority = access.led_authority(request)
    return selectors.api_client(request.user, authority=authority, pk=pk)


def _show_token(
    request: HttpRequest, client: ApiClient, token: str, *, rotated: bool
) -> HttpResponse:
    response = render(
        request,
        "accounts/api_client_token.html",
        {"client": client, "token": token, "rotated": rotated},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def api_client_list(request: HttpRequest) -> HttpResponse:
    authority = access.led_authority(request)
    clients = selectors.api_clients(request.user, authority=authority)
    return render(
        request, "accounts/api_clients.html", {"clients": clients, "authority": authority}
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_client_add(request: HttpRequest) -> HttpResponse:
    authority = access.led_authority(request)
    form = ApiClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client, token = services.create_api_client(request.user, authority, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return _show_token(request, client, token, rotated=False)
    return render(request, "accounts/api_client_add.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def api_client_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    client = _api_client(request, pk)
    if request.method == "POST" and client.is_active:
        client, token = services.rotate_api_client_token(request.user, client)
        return _show_token(request, client, token, rotated=True)
    return render(request, "accounts/api_client_confirm.html", {"client": client, "rotate": True})


@login_required
@require_http_methods(["GET", "POST"])
def api_client_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    client = _api_client(request, pk)
    if request.method == "POST" and client.is_active:
        services.revoke_api_client(request.user, client)
        messages.success(request, f"{client.name}'s token was revoked. It no longer works.")
        return redirect("accounts:api_client_list")
    return render(request, "accounts/api_client_confirm.html", {"client": client, "rotate": False})
