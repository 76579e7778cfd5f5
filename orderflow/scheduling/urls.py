"""URLs of scheduling: the client's pages under /book/, the staff calendar under /calendar/, Settings."""

from django.urls import path

from orderflow.scheduling import booking_type_settings, views

app_name = "scheduling"

urlpatterns = [
    path("book/<str:token>/", views.book, name="book"),
    path("book/<str:token>/confirm/", views.book_confirm, name="book-confirm"),
    path("book/<str:token>/cancel/", views.book_cancel, name="book-cancel"),
    path("book/<str:token>/call.ics", views.book_ics, name="book-ics"),
    path("calendar/", views.staff_calendar, name="staff-calendar"),
    path("calendar/availability/", views.availability_edit, name="availability"),
    path("calendar/invite/", views.invite, name="invite"),
    path("calendar/feed/", views.feed_create, name="feed-create"),
    path("calendar/feed/<str:token>.ics", views.feed, name="feed"),
    path(
        "settings/booking-types/",
        booking_type_settings.booking_type_list,
        name="settings-booking-types",
    ),
    path(
        "settings/booking-types/new/",
        booking_type_settings.booking_type_create,
        name="settings-booking-type-create",
    ),
    path(
        "settings/booking-types/<int:pk>/",
        booking_type_settings.booking_type_edit,
        name="settings-booking-type-edit",
    ),
    path(
        "settings/booking-types/<int:pk>/active/",
        booking_type_settings.booking_type_set_active,
        name="settings-booking-type-active",
    ),
]
