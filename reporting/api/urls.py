from django.urls import path

from . import views

urlpatterns = [
    path(
        "authorities/<int:authority_id>/returns/",
        views.AuthorityReturnList.as_view(),
        name="api-authority-returns",
    ),
    path(
        "authorities/<int:authority_id>/returns/<str:census_date>/",
        views.AuthorityReturnDetail.as_view(),
        name="api-authority-return",
    ),
]
