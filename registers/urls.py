from django.urls import path, re_path

from .views import attention, data, localities, people, records, register, transfers

app_name = "registers"

urlpatterns = [
    path("", register.person_list, name="person_list"),
    path("add/", people.person_add, name="person_add"),
    path("reviews/", register.reviews_due, name="reviews_due"),
    path("dashboard/", register.dashboard, name="dashboard"),
    path("audit/", register.audit_log, name="audit_log"),
    path("attention/", attention.needs_attention, name="needs_attention"),
    path("localities/", localities.locality_list, name="locality_list"),
    path("localities/<int:pk>/", localities.locality_detail, name="locality_detail"),
    path("authority/", register.switch_authority, name="switch_authority"),
    path("transfers/", transfers.transfers, name="transfers"),
    path("transfers/<int:pk>/", transfers.transfer_decide, name="transfer_decide"),
    path("transfers/<int:pk>/cancel/", transfers.transfer_cancel, name="transfer_cancel"),
    path("people/<int:pk>/", people.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", people.person_edit, name="person_edit"),
    path("people/<int:pk>/viewers/", people.person_viewers, name="person_viewers"),
    path("people/<int:pk>/status/", records.person_status, name="person_status"),
    path("people/<int:pk>/quick-status/", records.person_quick_status, name="person_quick_status"),
    path("people/<int:pk>/review/", records.review_record, name="review_record"),
    path("people/<int:pk>/leave/", people.person_leave, name="person_leave"),
    path("people/<int:pk>/locality/", people.person_move, name="person_move"),
    path("people/<int:pk>/transfer/", transfers.transfer_request, name="transfer_request"),
    path("people/<int:pk>/subject-access/", data.subject_access, name="subject_access"),
    path("people/<int:pk>/erase/", data.erase_entry, name="erase_entry"),
    path("files/", data.register_files, name="register_files"),
    re_path(
        r"^files/template\.(?P<file_format>csv|xlsx)$",
        data.import_template,
        name="import_template",
    ),
    re_path(
        r"^files/export\.(?P<file_format>csv|xlsx)$",
        data.register_export,
        name="register_export",
    ),
    re_path(
        r"^files/export-readable\.(?P<file_format>csv|xlsx)$",
        data.register_export_readable,
        name="register_export_readable",
    ),
    path("files/imports/<int:pk>/", data.import_batch, name="import_batch"),
    path("files/imports/<int:pk>/confirm/", data.import_confirm, name="import_confirm"),
    path("files/imports/<int:pk>/errors.csv", data.import_errors, name="import_errors"),
]
