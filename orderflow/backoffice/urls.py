"""URLs of the staff workspace."""

from django.urls import path

from orderflow.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/new/", views.order_create, name="order-create"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/move/", views.order_move, name="order-move"),
    path("mail/", views.caught_mail, name="caught-mail"),
]
