"""Signing in: the sign-in page (email first: the organisation's sign-in where its domain has one,
the password otherwise), the organisation sign-in's start and callback (rules in accounts/oidc.py),
sign-out, and the second step: set up an authenticator app (QR code drawn on the server, or a key
to type), and enter its code at each sign-in (accounts/mfa.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods

from .. import mfa, oidc
from ..forms import CodeForm
from ..models import IdentityProvider


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
    if mfa.second_factor_done(request) or request.session.get(mfa.HAS_DEVICE_SESSION_KEY):
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
    if mfa.second_factor_done(request):
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


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


class SignInView(auth_views.LoginView):
    """Email first. A POST with the email alone (`step=email`) looks for a provider serving its
    domain; a POST with a password is Django's sign-in, with django-axes' lockout as before."""

    template_name = "registration/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("step") != "email":
            return super().post(request, *args, **kwargs)
        email = request.POST.get("username", "").strip()
        context = self.get_context_data(form=self.get_form_class()(request, initial={}))
        context.update(email=email, step="password")
        if "@" not in email:
            context.update(step="email", email_error="Enter your email address, like name@nhs.scot")
        else:
            providers = oidc.providers_for_email(email)
            if providers:
                context.update(step="organisation", providers=providers)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if self.request.method == "GET":
            email = self.request.GET.get("email", "")
            context.update(email=email, step="password" if email else "email")
        elif "step" not in context:
            # A password that did not match: the password form again.
            context.update(email=self.request.POST.get("username", ""), step="password")
        return context


@require_GET
def organisation_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Off to the organisation's sign-in page (a link, not a form: the page's Content-Security-
    Policy allows forms to post only to this service)."""
    provider = get_object_or_404(IdentityProvider, slug=slug, enabled=True)
    next_url = _safe_next(request, request.GET.get("next", ""))
    try:
        return redirect(
            oidc.start(request, provider, email=request.GET.get("email", ""), next_url=next_url)
        )
    except oidc.SignInRefused as refused:
        return _refused(request, refused)


@require_GET
def organisation_callback(request: HttpRequest) -> HttpResponse:
    try:
        outcome = oidc.complete(request)
    except oidc.SignInRefused as refused:
        return _refused(request, refused)
    user = outcome.user
    skipped = outcome.skips_second_factor
    # Named in the "login" audit event by the sign-in receiver (accounts/signals.py).
    request.dsr_organisation_sign_in = {
        "provider": outcome.provider.name,
        "issuer": outcome.provider.issuer,
        "provider_asserted_mfa": outcome.provider_asserted_mfa,
        "second_factor": "provider" if skipped else "this service",
    }
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[oidc.SIGNED_IN_SESSION_KEY] = {
        "provider": outcome.provider.pk,
        "id_token": outcome.id_token,
    }
    if skipped:
        request.session[mfa.PROVIDER_SECOND_FACTOR_SESSION_KEY] = user.pk
    return redirect(_safe_next(request, outcome.next_url) or "home")


def _refused(request: HttpRequest, refused: oidc.SignInRefused) -> HttpResponse:
    oidc.record_refusal(refused)
    return render(
        request,
        "registration/organisation_refused.html",
        {"message": refused.message, "provider": refused.provider},
        status=403,
    )


class SignOutView(auth_views.LogoutView):
    """Ends the session here; after an organisation sign-in, offers to sign out there too."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        there = oidc.end_session_url(request)
        response = super().post(request, *args, **kwargs)
        if there is None:
            return response
        organisation, address = there
        return render(
            request,
            "registration/signed_out.html",
            {"organisation": organisation, "end_session_url": address},
        )
