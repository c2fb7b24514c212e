"""The second sign-in step: set up an authenticator app (QR code drawn on the server, or a key to
type), and enter its code at each sign-in. The logic is in accounts/mfa.py."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods

from .. import mfa
from ..forms import CodeForm


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified() or request.session.get(mfa.HAS_DEVICE_SESSION_KEY):
        # A device is already in use: the code is asked for, not a new device.
        return redirect(f"{reverse('mfa_verify')}?{urlencode({'next': _next(request)})}")
    device = mfa.start_setup(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.confirm_setup(request, device, form.cleaned_data["code"]):
            return redirect(_next(request))
        form.add_error("code", "The code did not match. Enter the 6-digit code your app shows now.")
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "qr_svg": mfa.qr_svg(device),
            "manual_key": mfa.manual_key(device),
            "required": mfa.mfa_required(request.user),
            "next": _next(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified():
        return redirect(_next(request))
    if (
        request.session.get(mfa.HAS_DEVICE_SESSION_KEY)
        and mfa.confirmed_device(request.user) is None
    ):
        # The device was removed (a lost phone): set up a new one.
        request.session[mfa.HAS_DEVICE_SESSION_KEY] = False
    if not request.session.get(mfa.HAS_DEVICE_SESSION_KEY):
        return redirect(f"{reverse('mfa_setup')}?{urlencode({'next': _next(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified, message = mfa.verify(request, form.cleaned_data["code"])
        if verified:
            return redirect(_next(request))
        form.add_error("code", message)
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next(request)})
