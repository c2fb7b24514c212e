from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import account, signin
from registers.api.errors import api_not_found
from reporting import views as reporting_views

# Pages anyone may read, signed in or not: they hold nothing about anyone on the register.
INFORMATION_PAGES = ("help", "accessibility", "privacy", "cookies")

urlpatterns = [
    path("", reporting_views.home, name="home"),
    *(
        path(f"{page}/", TemplateView.as_view(template_name=f"pages/{page}.html"), name=page)
        for page in INFORMATION_PAGES
    ),
    path("accounts/login/", signin.SignInView.as_view(), name="login"),
    path("accounts/logout/", signin.SignOutView.as_view(), name="logout"),
    path(
        "accounts/organisation-sign-in/callback/",
        signin.organisation_callback,
        name="sso_callback",
    ),
    path(
        "accounts/organisation-sign-in/<slug:slug>/",
        signin.organisation_start,
        name="sso_start",
    ),
    path("accounts/second-factor/", signin.mfa_verify, name="mfa_verify"),
    path("accounts/second-factor/set-up/", signin.mfa_setup, name="mfa_setup"),
    path(
        "accounts/password/set/<uidb64>/<token>/",
        account.SetPasswordView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/set/done/",
        account.PasswordSetDoneView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "accounts/password/forgotten/",
        account.password_forgotten,
        name="password_forgotten",
    ),
    path(
        "accounts/password/forgotten/sent/",
        account.password_forgotten_sent,
        name="password_forgotten_sent",
    ),
    # "Your account" is outside /accounts/, so the second sign-in step guards it like any page.
    path("account/", account.your_account, name="your_account"),
    path("account/password/", account.change_password, name="change_password"),
    path(
        "account/authenticator/",
        account.replace_authenticator,
        name="replace_authenticator",
    ),
    path("register/", include("registers.urls")),
    path("staff/", include("accounts.urls")),
    path("reporting/", include("reporting.urls")),
    path("api/v1/", include("registers.api.urls")),
    path("api/v1/", include("reporting.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", api_not_found),
    path("admin/", admin.site.urls),
]

# Problem details under /api/, the service's own pages elsewhere.
handler400 = "registers.api.errors.bad_request"
handler403 = "registers.api.errors.permission_denied"
handler500 = "registers.api.errors.server_error"
