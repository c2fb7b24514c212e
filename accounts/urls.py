from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.staff_list, name="staff_list"),
    path("add/", views.staff_add, name="staff_add"),
    path("lead/", views.hand_over, name="hand_over"),
    path("<int:pk>/", views.staff_member, name="staff_member"),
    path("<int:pk>/remove/", views.staff_remove, name="staff_remove"),
]
