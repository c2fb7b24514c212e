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
    # The same, addressed by the authority's HSCP code (S37...).
    path(
        "authorities/by-code/<str:authority_code>/returns/",
        views.AuthorityReturnList.as_view(),
        name="api-authority-returns-by-code",
    ),
    path(
        "authorities/by-code/<str:authority_code>/returns/<str:census_date>/",
        views.AuthorityReturnDetail.as_view(),
        name="api-authority-return-by-code",
    ),
]
