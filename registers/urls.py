from django.urls import path, re_path

from . import data_views, views

app_name = "registers"

urlpatterns = [
    path("", views.person_list, name="person_list"),
    path("add/", views.person_add, name="person_add"),
    path("reviews/", views.reviews_due, name="reviews_due"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("audit/", views.audit_log, name="audit_log"),
    path("authority/", views.switch_authority, name="switch_authority"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/<int:pk>/", views.transfer_decide, name="transfer_decide"),
    path("transfers/<int:pk>/cancel/", views.transfer_cancel, name="transfer_cancel"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/viewers/", views.person_viewers, name="person_viewers"),
    path("people/<int:pk>/status/", views.person_status, name="person_status"),
    path("people/<int:pk>/quick-status/", views.person_quick_status, name="person_quick_status"),
    path("people/<int:pk>/review/", views.review_record, name="review_record"),
    path("people/<int:pk>/leave/", views.person_leave, name="person_leave"),
    path("people/<int:pk>/locality/", views.person_move, name="person_move"),
    path("people/<int:pk>/transfer/", views.transfer_request, name="transfer_request"),
    path("people/<int:pk>/subject-access/", data_views.subject_access, name="subject_access"),
    path("people/<int:pk>/erase/", data_views.erase_entry, name="erase_entry"),
    path("files/", data_views.register_files, name="register_files"),
    re_path(
        r"^files/template\.(?P<file_format>csv|xlsx)$",
        data_views.import_template,
        name="import_template",
    ),
    re_path(
        r"^files/export\.(?P<file_format>csv|xlsx)$",
        data_views.register_export,
        name="register_export",
    ),
    path("files/imports/<int:pk>/", data_views.import_batch, name="import_batch"),
    path("files/imports/<int:pk>/confirm/", data_views.import_confirm, name="import_confirm"),
    path("files/imports/<int:pk>/errors.csv", data_views.import_errors, name="import_errors"),
]
