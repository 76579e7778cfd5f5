"""URLs of the staff workspace."""

from django.urls import path

from orderflow.backoffice import (
    board,
    contacts,
    order_lists,
    organisation_settings,
    pipeline_settings,
    views,
)

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("orders/", order_lists.order_list, name="order-list"),
    path("orders/bulk-move/", order_lists.bulk_move, name="order-bulk-move"),
    path("orders/views/", order_lists.saved_view_create, name="saved-view-create"),
    path("orders/views/<int:pk>/delete/", order_lists.saved_view_delete, name="saved-view-delete"),
    path("orders/new/", views.order_create, name="order-create"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/move/", views.order_move, name="order-move"),
    path("board/", board.board_home, name="board-home"),
    path("pipelines/<slug:slug>/board/", board.board, name="board"),
    path("pipelines/<slug:slug>/board/stages/<int:stage_id>/", board.board_column, name="board-column"),
    path("pipelines/<slug:slug>/board/orders/<int:pk>/move/", board.board_move, name="board-move"),
    path("orders/<int:pk>/leave-side-status/", views.order_leave_side, name="order-leave-side"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order-edit"),
    path("orders/<int:pk>/tasks/", views.order_task_create, name="order-task-create"),
    path("tasks/", views.my_tasks, name="my-tasks"),
    path("tasks/<int:pk>/done/", views.task_complete, name="task-complete"),
    path("mail/", views.caught_mail, name="caught-mail"),
    path("contacts/", contacts.contact_list, name="contact-list"),
    path("contacts/new/", contacts.contact_create, name="contact-create"),
    path("contacts/search/", contacts.contact_search, name="contact-search"),
    path("contacts/<int:pk>/edit/", contacts.contact_edit, name="contact-edit"),
    path("settings/calendar/", organisation_settings.calendar_settings, name="settings-calendar"),
    path(
        "settings/calendar/closing-days/",
        organisation_settings.closing_day_add,
        name="settings-closing-day-add",
    ),
    path(
        "settings/calendar/closing-days/<int:pk>/remove/",
        organisation_settings.closing_day_remove,
        name="settings-closing-day-remove",
    ),
    path("settings/pipelines/", pipeline_settings.pipeline_list, name="settings-pipeline-list"),
    path("settings/pipelines/new/", pipeline_settings.pipeline_create, name="settings-pipeline-create"),
    path("settings/pipelines/import/", pipeline_settings.pipeline_import, name="settings-pipeline-import"),
    path(
        "settings/pipelines/<int:pk>/export.yaml",
        pipeline_settings.pipeline_export,
        name="settings-pipeline-export",
    ),
    path("settings/pipelines/<int:pk>/", pipeline_settings.pipeline_edit, name="settings-pipeline-edit"),
    path(
        "settings/pipelines/<int:pk>/active/",
        pipeline_settings.pipeline_set_active,
        name="settings-pipeline-active",
    ),
    path("settings/pipelines/<int:pk>/stages/", pipeline_settings.stage_list, name="settings-stages"),
    path(
        "settings/pipelines/<int:pk>/stages/new/",
        pipeline_settings.stage_create,
        name="settings-stage-create",
    ),
    path(
        "settings/pipelines/<int:pk>/stages/order/",
        pipeline_settings.stage_reorder,
        name="settings-stage-reorder",
    ),
    path("settings/stages/<int:pk>/", pipeline_settings.stage_row, name="settings-stage-row"),
    path("settings/stages/<int:pk>/edit/", pipeline_settings.stage_edit, name="settings-stage-edit"),
    path("settings/stages/<int:pk>/shift/", pipeline_settings.stage_shift, name="settings-stage-shift"),
    path("settings/stages/<int:pk>/delete/", pipeline_settings.stage_delete, name="settings-stage-delete"),
    path("settings/pipelines/<int:pk>/fields/", pipeline_settings.field_list, name="settings-fields"),
    path(
        "settings/pipelines/<int:pk>/fields/new/",
        pipeline_settings.field_create,
        name="settings-field-create",
    ),
    path(
        "settings/pipelines/<int:pk>/fields/order/",
        pipeline_settings.field_reorder,
        name="settings-field-reorder",
    ),
    path("settings/fields/<int:pk>/", pipeline_settings.field_row, name="settings-field-row"),
    path("settings/fields/<int:pk>/edit/", pipeline_settings.field_edit, name="settings-field-edit"),
    path("settings/fields/<int:pk>/shift/", pipeline_settings.field_shift, name="settings-field-shift"),
    path("settings/fields/<int:pk>/delete/", pipeline_settings.field_delete, name="settings-field-delete"),
]
