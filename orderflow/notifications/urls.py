"""URLs of notifications: the delivery log and its actions, contact preferences, message templates,
the feedback report and the order card's feedback; the client's unsubscribe, message settings and
feedback pages."""

from django.urls import path

from orderflow.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.message_log, name="log"),
    path("<int:pk>/resend/", views.message_resend, name="message-resend"),
    path("<int:pk>/retry/", views.message_retry, name="message-retry"),
    path("<int:pk>/give-up/", views.message_give_up, name="message-give-up"),
    path("contacts/<int:pk>/preferences/", views.contact_preferences, name="contact-preferences"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/<str:event>/<slug:channel>/<slug:language>/", views.template_edit, name="template-edit"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("settings/<str:token>/", views.message_settings, name="message-settings"),
    path("feedback/", views.feedback_report, name="feedback-report"),
    path("feedback/<str:token>/", views.feedback, name="feedback"),
    path("orders/<int:order_pk>/feedback/", views.order_feedback, name="order-feedback"),
]
