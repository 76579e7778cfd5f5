"""Staff's own wording of message templates: save (checked placeholders) and reset."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from orderflow.accounts.models import User
from orderflow.notifications.models import MessageTemplate
from orderflow.notifications.services.queueing import NotificationError


class TemplateError(NotificationError):
    """A message template that cannot be saved; `field` is "subject" or "body"."""

    code = "template_invalid"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def save_message_template(
    *,
    event: str,
    channel: str,
    language: str,
    subject: str,
    body: str,
    by: User | None,
    upsell: str | None = None,
) -> MessageTemplate:
    """Save staff's wording for one event, channel and language, and its optional offer (`upsell`,
    None: keep the saved one); unknown placeholders are refused."""
    from orderflow.notifications.rendering import TemplateProblem, check_template

    if not body.strip():
        raise TemplateError(_("Write the text of the message."), field="body")
    for field, source in (("subject", subject), ("body", body), ("upsell", upsell or "")):
        try:
            check_template(source)
        except TemplateProblem as problem:
            raise TemplateError(problem.message, field=field) from None
    values = {"subject": subject.strip(), "body": body}
    if upsell is not None:
        values["upsell"] = upsell.strip()
    template, _created = MessageTemplate.objects.update_or_create(
        event=event, channel=channel, language=language, defaults=values
    )
    return template


@transaction.atomic
def reset_message_template(*, event: str, channel: str, language: str) -> None:
    """Go back to the shipped wording for this event, channel and language."""
    MessageTemplate.objects.filter(event=event, channel=channel, language=language).delete()
