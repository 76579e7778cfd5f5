"""URLs of the automation pages (rules, reminder sequences, run log, reminder controls)."""

from django.urls import path

from orderflow.automation import views

app_name = "automation"

urlpatterns = [
    path("", views.automation_home, name="home"),
    path("runs/", views.run_log, name="run-log"),
    path("rules/new/", views.rule_create, name="rule-create"),
    path("rules/new/text/", views.rule_create_text, name="rule-create-text"),
    path("rules/<int:pk>/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/text/", views.rule_edit_text, name="rule-edit-text"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("reminders/new/", views.sequence_create, name="sequence-create"),
    path("reminders/new/text/", views.sequence_create_text, name="sequence-create-text"),
    path("reminders/<int:pk>/", views.sequence_edit, name="sequence-edit"),
    path("reminders/<int:pk>/text/", views.sequence_edit_text, name="sequence-edit-text"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job-retry"),
    path("orders/<int:pk>/reminders/", views.order_reminders, name="order-reminders"),
    path("order-reminders/<int:pk>/<slug:action>/", views.reminder_control, name="reminder-control"),
]
