from django.urls import path

from . import national_views, views, views_organisation

app_name = "accounts"

urlpatterns = [
    path("", views.staff_list, name="staff_list"),
    path("add/", views.staff_add, name="staff_add"),
    path("lead/", views.hand_over, name="hand_over"),
    path("<int:pk>/", views.staff_member, name="staff_member"),
    path("<int:pk>/remove/", views.staff_remove, name="staff_remove"),
    path("<int:pk>/<slug:action>/", views.staff_action, name="staff_action"),
    path("national/", national_views.analyst_list, name="analyst_list"),
    path("national/<int:pk>/<slug:action>/", national_views.analyst_action, name="analyst_action"),
    path("sign-in/", views_organisation.identity_providers, name="identity_providers"),
    path("api-clients/", views.api_client_list, name="api_client_list"),
    path("api-clients/add/", views.api_client_add, name="api_client_add"),
    path("api-clients/<int:pk>/rotate/", views.api_client_rotate, name="api_client_rotate"),
    path("api-clients/<int:pk>/revoke/", views.api_client_revoke, name="api_client_revoke"),
]
