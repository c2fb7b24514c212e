"""Signing in again and one's own account: "Forgot your password?", setting a password from an
emailed link, and "Your account" (change password, replace the authenticator app, email
digests). Thin: the rules and the audit are in accounts/recovery.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from registers.audit import client_ip_of

from .. import mfa, recovery
from ..forms import ConfirmPasswordForm, EmailDigestsForm, ForgottenPasswordForm


@require_http_methods(["GET", "POST"])
def password_forgotten(request: HttpRequest) -> HttpResponse:
    form = ForgottenPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        recovery.request_password_reset(form.cleaned_data["email"], client_ip=client_ip_of(request))
        return redirect("password_forgotten_sent")
    return render(request, "registration/password_forgotten.html", {"form": form})


def password_forgotten_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/password_forgotten_sent.html")


# Advice shown beside the new password.
CHOOSING_ADVICE = (
    "At least 12 characters. Three random words work well; very common passwords, and ones like "
    "your name or email address, are refused."
)


def _with_hint(form: Any) -> Any:
    form.fields["new_password1"].help_text = CHOOSING_ADVICE
    return form


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The emailed link (an invitation or a forgotten password) sets a password; audited."""

    template_name = "registration/password_set.html"

    def get_form(self, form_class: Any = None) -> Any:
        return _with_hint(super().get_form(form_class))

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        recovery.password_set(form.user)
        return response


class PasswordSetDoneView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_set_done.html"


@login_required
@require_http_methods(["GET", "POST"])
def your_account(request: HttpRequest) -> HttpResponse:
    form = EmailDigestsForm(
        request.POST if request.method == "POST" else None,
        initial={"email_digests": request.user.email_digests},
    )
    if request.method == "POST" and form.is_valid():
        recovery.set_email_digests(request.user, enabled=form.cleaned_data["email_digests"])
        messages.success(request, "Your email choices were saved.")
        return redirect("your_account")
    return render(
        request,
        "accounts/your_account.html",
        {"has_device": mfa.confirmed_device(request.user) is not None, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    form = _with_hint(PasswordChangeForm(request.user, request.POST or None))
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        recovery.password_changed(user)
        messages.success(request, "Your password was changed.")
        return redirect("your_account")
    return render(request, "accounts/change_password.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def replace_authenticator(request: HttpRequest) -> HttpResponse:
    """Confirm the password, then the old app stops working and a new one is set up."""
    form = ConfirmPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        recovery.replace_own_authenticator(request.user)
        request.session[mfa.HAS_DEVICE_SESSION_KEY] = False
        return redirect(f"{reverse('mfa_setup')}?next={reverse('your_account')}")
    return render(request, "accounts/replace_authenticator.html", {"form": form})
