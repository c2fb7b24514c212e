import datetime as dt

from django.urls import path, register_converter

from . import views
from .census import is_census_date


class CensusDateConverter:
    """YYYY-MM-DD that is a census date; anything else does not match (404)."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> dt.date:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(value) from exc
        if not is_census_date(day):
            raise ValueError(value)
        return day

    def to_url(self, value: dt.date) -> str:
        return value.isoformat()


register_converter(CensusDateConverter, "census")

app_name = "reporting"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:authority_id>/<census:census_date>/", views.authority_return, name="return"),
    path("<int:authority_id>/<census:census_date>/build/", views.build_return, name="build_return"),
    path(
        "<int:authority_id>/<census:census_date>/submit/",
        views.submit_return,
        name="submit_return",
    ),
    path(
        "<int:authority_id>/<census:census_date>/files/",
        views.request_authority_file,
        name="authority_file",
    ),
    path("national/<census:census_date>/", views.national, name="national"),
    path(
        "national/<census:census_date>/figures/",
        views.national_figures,
        name="national_figures",
    ),
    path(
        "national/<census:census_date>/files/",
        views.request_national_file,
        name="national_file",
    ),
    path(
        "national/<census:census_date>/remind/<int:pk>/",
        views.remind_lead,
        name="remind_lead",
    ),
    path("national/returns/<int:pk>/", views.national_return, name="national_return"),
    path("national/returns/<int:pk>/decide/", views.decide_return, name="decide_return"),
    path("people/<int:person_id>/profile/", views.person_profile, name="person_profile"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
]
