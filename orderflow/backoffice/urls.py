"""URLs of the staff workspace."""

from django.urls import path

from orderflow.backoffice import board, order_lists, views

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
]
