"""An API client's webhook: the lead registers the address that is told of changes, sees the last
deliveries and removes it. The secret is shown once, on the page that answers the registration.
The rules, the sending and the audit are in registers/webhooks.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from registers import webhooks
from registers.forms import attach_errors

from ..forms import WebhookForm
from .api_clients import _api_client


@login_required
@require_http_methods(["GET", "POST"])
def api_client_webhook(request: HttpRequest, pk: int) -> HttpResponse:
    client = _api_client(request, pk)
    endpoint = webhooks.endpoint_of(client)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and endpoint is None and form.is_valid():
        try:
            endpoint, secret = webhooks.register_endpoint(
                request.user, client, url=form.cleaned_data["url"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            response = render(
                request,
                "accounts/api_client_webhook_secret.html",
                {"client": client, "endpoint": endpoint, "secret": secret},
            )
            response["Cache-Control"] = "no-store"
            return response
    deliveries = webhooks.recent_deliveries(endpoint) if endpoint else []
    return render(
        request,
        "accounts/api_client_webhook.html",
        {"client": client, "endpoint": endpoint, "deliveries": deliveries, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_client_webhook_remove(request: HttpRequest, pk: int) -> HttpResponse:
    client = _api_client(request, pk)
    endpoint = webhooks.endpoint_of(client)
    if endpoint is None:
        return redirect("accounts:api_client_webhook", pk=client.pk)
    if request.method == "POST":
        webhooks.remove_endpoint(request.user, endpoint)
        messages.success(
            request, f"The webhook of {client.name} was removed. No more notices go to it."
        )
        return redirect("accounts:api_client_webhook", pk=client.pk)
    return render(
        request, "accounts/api_client_webhook_remove.html", {"client": client, "endpoint": endpoint}
    )
