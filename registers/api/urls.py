from django.urls import path

from . import feed, leaving, localities, me, views

app_name = "api"

people = views.PersonViewSet

urlpatterns = [
    path("people/", people.as_view({"get": "list", "post": "create"}), name="person-list"),
    path("people/bulk/", people.as_view({"post": "bulk"}), name="person-bulk"),
    path(
        "people/by-reference/<str:reference>/",
        people.as_view({"get": "retrieve_by_reference", "put": "by_reference"}),
        name="person-by-reference",
    ),
    path(
        "people/<int:person_id>/",
        people.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"}),
        name="person-detail",
    ),
    path(
        "people/<int:person_id>/status-changes/",
        views.StatusChangeList.as_view(),
        name="person-status-changes",
    ),
    path("people/<int:person_id>/reviews/", views.ReviewList.as_view(), name="person-reviews"),
    path("people/<int:person_id>/leave/", leaving.PersonLeave.as_view(), name="person-leave"),
    path(
        "people/<int:person_id>/transfers/",
        leaving.PersonTransfers.as_view(),
        name="person-transfers",
    ),
    path("changes/", feed.ChangeFeed.as_view(), name="change-feed"),
    path("localities/", views.LocalityList.as_view(), name="locality-list"),
    path("codes/", views.CodesView.as_view(), name="codes"),
    path("me/", me.MeView.as_view(), name="me"),
    path(
        "authorities/<int:authority_id>/localities/",
        localities.AuthorityLocalityList.as_view(),
        name="authority-locality-list",
    ),
    path(
        "authorities/<int:authority_id>/localities/<int:locality_id>/",
        localities.AuthorityLocalityDetail.as_view(),
        name="authority-locality-detail",
    ),
    path(
        "authorities/<int:authority_id>/localities/<int:locality_id>/retire/",
        localities.AuthorityLocalityRetire.as_view(),
        name="authority-locality-retire",
    ),
    path(
        "authorities/<int:authority_id>/localities/<int:locality_id>/move-people/",
        localities.AuthorityLocalityMovePeople.as_view(),
        name="authority-locality-move-people",
    ),
]
