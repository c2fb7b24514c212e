from django.urls import path

from .views import api_clients, national, staff, webhooks

app_name = "accounts"

urlpatterns = [
    path("", staff.staff_list, name="staff_list"),
    path("add/", staff.staff_add, name="staff_add"),
    path("lead/", staff.hand_over, name="hand_over"),
    path("<int:pk>/", staff.staff_member, name="staff_member"),
    path("<int:pk>/remove/", staff.staff_remove, name="staff_remove"),
    path("<int:pk>/<slug:action>/", staff.staff_action, name="staff_action"),
    path("national/", national.analyst_list, name="analyst_list"),
    path("national/<int:pk>/<slug:action>/", national.analyst_action, name="analyst_action"),
    path("sign-in/", staff.identity_providers, name="identity_providers"),
    path("api-clients/", api_clients.api_client_list, name="api_client_list"),
    path("api-clients/add/", api_clients.api_client_add, name="api_client_add"),
    path("api-clients/<int:pk>/rotate/", api_clients.api_client_rotate, name="api_client_rotate"),
    path("api-clients/<int:pk>/revoke/", api_clients.api_client_revoke, name="api_client_revoke"),
    path("api-clients/<int:pk>/webhook/", webhooks.api_client_webhook, name="api_client_webhook"),
    path(
        "api-clients/<int:pk>/webhook/remove/",
        webhooks.api_client_webhook_remove,
        name="api_client_webhook_remove",
    ),
]
