from django.urls import path

from . import views

app_name = "registers"

urlpatterns = [
    path("", views.person_list, name="person_list"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
]
