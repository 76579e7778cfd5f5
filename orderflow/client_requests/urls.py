"""URLs of client requests: staff pages under requests/, recipients' pages under r/<token>/."""

from django.urls import path

from orderflow.client_requests import respond, views

app_name = "client_requests"

urlpatterns = [
    path("r/<str:token>/", respond.respond, name="respond"),
    path("r/<str:token>/answers/<slug:key>/", respond.save_answer, name="respond-answer"),
    path("r/<str:token>/files/<slug:key>/", respond.upload_files, name="respond-files"),
    path(
        "r/<str:token>/files/<slug:key>/<int:file_id>/delete/",
        respond.delete_file,
        name="respond-file-delete",
    ),
    path("r/<str:token>/submit/", respond.submit, name="respond-submit"),
    path("requests/", views.pending_list, name="pending-list"),
    path("requests/forms/", views.form_list, name="form-list"),
    path("requests/forms/starters/", views.form_starters, name="form-starters"),
    path("requests/forms/<int:pk>/", views.form_builder, name="form-builder"),
    path("requests/forms/<int:pk>/preview/", views.form_preview, name="form-preview"),
    path("requests/forms/<int:pk>/questions/", views.question_add, name="question-add"),
    path("requests/forms/<int:pk>/questions/order/", views.questions_reorder, name="questions-reorder"),
    path("requests/forms/<int:pk>/questions/<slug:key>/", views.question_edit, name="question-edit"),
    path(
        "requests/forms/<int:pk>/questions/<slug:key>/delete/", views.question_delete, name="question-delete"
    ),
    path("requests/forms/<int:pk>/questions/<slug:key>/shift/", views.question_shift, name="question-shift"),
    path("requests/forms/<int:pk>/moves/", views.moves_save, name="moves-save"),
    path("requests/orders/<int:order_pk>/send/", views.request_send, name="request-send"),
    path("requests/orders/<int:order_pk>/adhoc/", views.adhoc_create, name="adhoc-create"),
    path("requests/orders/<int:order_pk>/card/", views.order_requests, name="order-requests"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/edit/", views.request_edit, name="request-edit"),
    path("requests/<int:pk>/<slug:action>/", views.request_action, name="request-action"),
    path("requests/<int:pk>/export.csv", views.export_csv, name="export-csv"),
    path("requests/<int:pk>/export.pdf", views.export_pdf, name="export-pdf"),
    path("requests/files/<int:pk>/", views.file_download, name="file-download"),
]
