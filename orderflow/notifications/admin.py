"""Admin of notifications: SMS/messenger services (Apprise URLs, checked on save), the outbox with its
attachments, unsubscribed addresses and feedback."""

from django.contrib import admin

from orderflow.notifications.models import (
    AppriseEndpoint,
    FeedbackRequest,
    MessageTemplate,
    OutboxAttachment,
    OutboxMessage,
    UnsubscribedAddress,
)


@admin.register(AppriseEndpoint)
class AppriseEndpointAdmin(admin.ModelAdmin):
    list_display = ["channel", "is_active"]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["event", "channel", "language", "updated_at"]
    list_filter = ["event", "channel", "language"]


class OutboxAttachmentInline(admin.TabularInline):
    model = OutboxAttachment
    fields = ["filename", "content_type"]
    readonly_fields = ["filename", "content_type"]
    extra = 0
    can_delete = False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "status", "deliver_after", "attempts"]
    list_filter = ["status", "channel", "reason"]
    inlines = [OutboxAttachmentInline]
    search_fields = ["recipient", "subject", "idempotency_key"]
    readonly_fields = ["idempotency_key", "created_at", "sent_at", "claimed_at", "dispatched_at"]


@admin.register(UnsubscribedAddress)
class UnsubscribedAddressAdmin(admin.ModelAdmin):
    list_display = ["email", "contact", "created_at"]
    search_fields = ["email"]
    raw_id_fields = ["contact"]


@admin.register(FeedbackRequest)
class FeedbackRequestAdmin(admin.ModelAdmin):
    list_display = ["order", "contact", "rating", "answered_at", "created_at"]
    list_filter = ["rating"]
    readonly_fields = ["salt", "token_hash", "rating", "comment", "answered_at", "created_at"]
    raw_id_fields = ["order", "contact", "event"]
