"""URLs of notifications: the delivery log, contact preferences, message templates, unsubscribe."""

from django.urls import path

from orderflow.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.message_log, name="log"),
    path("<int:pk>/resend/", views.message_resend, name="message-resend"),
    path("contacts/<int:pk>/preferences/", views.contact_preferences, name="contact-preferences"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/<str:event>/<slug:channel>/<slug:language>/", views.template_edit, name="template-edit"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
