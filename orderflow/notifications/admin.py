"""Admin of notifications: SMS/messenger services (Apprise URLs, checked on save) and the outbox."""

from django.contrib import admin

from orderflow.notifications.models import AppriseEndpoint, MessageTemplate, OutboxMessage


@admin.register(AppriseEndpoint)
class AppriseEndpointAdmin(admin.ModelAdmin):
    list_display = ["channel", "is_active"]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["event", "channel", "language", "updated_at"]
    list_filter = ["event", "channel", "language"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "status", "deliver_after", "attempts"]
    list_filter = ["status", "channel"]
    search_fields = ["recipient", "subject", "idempotency_key"]
    readonly_fields = ["idempotency_key", "created_at", "sent_at", "claimed_at", "dispatched_at"]
