"""Sending requests for an order, the recipients' secret links, and changing a request while unanswered."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orderflow.accounts.models import Contact, Organisation, User
from orderflow.client_requests.definitions import QuestionType, localize_title
from orderflow.client_requests.models import (
    ClientRequest,
    FormTemplate,
    Recipient,
)
from orderflow.errors import DomainError
from orderflow.notifications.services import queue_email
from orderflow.pipelines.models import Order, OrderEvent
from orderflow.pipelines.services import record_event

LINK_DAYS = 30


class RequestError(DomainError):
    code = "request_invalid"


class RequestClosedError(DomainError):
    """The request was submitted or cancelled: answers can no longer change."""

    code = "request_closed"


@dataclass(frozen=True)
class RecipientSpec:
    """Someone to send a request to: the order's client (with `contact`) or a third party."""

    name: str
    email: str
    language: str = "en"
    contact: Contact | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _hash(token)


def link_for(token: str) -> str:
    return settings.BASE_URL.rstrip("/") + reverse("client_requests:respond", args=[token])


def _expiry(due_date: datetime.date | None) -> datetime.datetime:
    expires = timezone.now() + datetime.timedelta(days=LINK_DAYS)
    if due_date is not None:
        after_due = datetime.datetime.combine(
            due_date + datetime.timedelta(days=LINK_DAYS), datetime.time(), tzinfo=datetime.UTC
        )
        expires = max(expires, after_due)
    return expires


def check_due_date(due_date: datetime.date | None) -> None:
    """Refuse a due date before today (in the current zone: the staff member's)."""
    if due_date is not None and due_date < timezone.localdate():
        raise RequestError(_("The due date is in the past."), code="request_due_past")


def _email_recipient(recipient: Recipient, token: str, *, key: str, template: str = "request") -> None:
    """Queue the e-mail with the recipient's link: `template` is "request" (asked) or "reopened"."""
    request = recipient.request
    order = request.order
    with translation.override(recipient.language):
        context = {
            "recipient": recipient,
            "request": request,
            "title": localize_title(request.title, request.form_version.definition, recipient.language),
            "link": link_for(token),
            "organisation_name": Organisation.current().name,
            "order_reference": order.reference,
            # A due date already passed (a reopened request) is not asked for again.
            "due_date": request.due_date
            if request.due_date and request.due_date >= timezone.localdate()
            else None,
        }
        subject = render_to_string(f"client_requests/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"client_requests/email/{template}.txt", context)
    queue_email(
        key=key,
        recipient=recipient.email,
        subject=subject,
        body_text=body,
        language=recipient.language,
        contact=recipient.contact,
        order_id=order.pk,
    )


@transaction.atomic
def send_request(
    order: Order,
    *,
    form: FormTemplate,
    recipients: Sequence[RecipientSpec],
    by: User | None,
    message: str = "",
    due_date: datetime.date | None = None,
    title: str = "",
) -> ClientRequest:
    """Send the latest version of `form` for `order` to each recipient, each with a link of their own.

    Records a REQUEST_SENT event; the e-mails leave after commit. The links are in the e-mails only:
    the database keeps their hashes.
    """
    if not recipients:
        raise RequestError(_("Choose at least one recipient."), code="request_no_recipient")
    emails = [spec.email.strip().lower() for spec in recipients]
    if any(not email for email in emails):
        raise RequestError(_("Every recipient needs an e-mail address."), code="request_no_email")
    if len(set(emails)) != len(emails):
        raise RequestError(_("A recipient is listed twice."), code="request_duplicate_recipient")
    version = form.versions.order_by("-number").first()
    if version is None or not [q for q in version.questions if q["type"] != QuestionType.INFO]:
        raise RequestError(_("Add at least one question before sending."), code="request_no_questions")
    check_due_date(due_date)
    request = ClientRequest.objects.create(
        order=order,
        form_version=version,
        title=(title.strip() or form.name)[:200],
        message=message.strip(),
        due_date=due_date,
        created_by=by,
    )
    sent: list[str] = []
    for spec in recipients:
        token, digest = _new_token()
        recipient = Recipient.objects.create(
            request=request,
            contact=spec.contact,
            name=spec.name.strip()[:200] or spec.email,
            email=spec.email.strip(),
            language=spec.language if spec.language in dict(settings.LANGUAGES) else "en",
            token_hash=digest,
            expires_at=_expiry(due_date),
        )
        _email_recipient(
            recipient, token, key=f"client-request:{request.pk}:recipient:{recipient.pk}:{digest[:12]}"
        )
        sent.append(recipient.name)
    record_event(
        order,
        OrderEvent.Kind.REQUEST_SENT,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=request.title,
        data={"request": request.pk, "form": form.name, "recipients": sent},
    )
    return request


def lock_request(request: ClientRequest) -> ClientRequest:
    """The request row, locked until the transaction ends (every change of a request takes this first)."""
    return (
        ClientRequest.objects.select_for_update().select_related("order", "form_version").get(pk=request.pk)
    )


def require_editable(request: ClientRequest) -> None:
    if request.status != ClientRequest.Status.PENDING:
        raise RequestClosedError(
            _("Someone has started answering, so the request can no longer change."), code="request_started"
        )


@transaction.atomic
def update_request(
    request: ClientRequest,
    *,
    by: User | None,
    title: str,
    message: str,
    due_date: datetime.date | None,
) -> ClientRequest:
    """Change the title, message or due date while nobody has started answering.

    The links that still work move their expiry with the due date (30 days after it, or from now,
    whichever is later). A due date in the past is refused and nothing changes.
    """
    locked = lock_request(request)
    require_editable(locked)
    if not title.strip():
        raise RequestError(_("Give the request a title."), code="request_no_title")
    check_due_date(due_date)
    due_changed = locked.due_date != due_date
    locked.title, locked.message, locked.due_date = title.strip()[:200], message.strip(), due_date
    locked.save(update_fields=["title", "message", "due_date", "updated_at"])
    if due_changed:
        locked.recipients.filter(revoked_at__isnull=True).update(expires_at=_expiry(due_date))
    record_event(
        locked.order,
        OrderEvent.Kind.REQUEST_CHANGED,
        by=by,
        message=locked.title,
        data={"request": locked.pk, "due_date": due_date.isoformat() if due_date else None},
    )
    return locked


@transaction.atomic
def cancel_request(request: ClientRequest, *, by: User | None) -> ClientRequest:
    """Withdraw a request nobody has started answering; its links stop working."""
    locked = lock_request(request)
    require_editable(locked)
    locked.status = ClientRequest.Status.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    record_event(
        locked.order,
        OrderEvent.Kind.REQUEST_CANCELLED,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=locked.title,
        data={"request": locked.pk},
    )
    return locked


def _renew_links(request: ClientRequest, *, template: str) -> list[str]:
    """Give every recipient whose link is not revoked a new link by e-mail; the old links stop working.

    The new links expire LINK_DAYS from now or after the due date, whichever is later. Returns the
    names of the people e-mailed; refuses (RequestError) when every link is revoked.
    """
    names = []
    for recipient in request.recipients.filter(revoked_at__isnull=True):
        token, digest = _new_token()
        recipient.token_hash = digest
        recipient.expires_at = _expiry(request.due_date)
        recipient.save(update_fields=["token_hash", "expires_at"])
        recipient.request = request
        _email_recipient(
            recipient,
            token,
            key=f"client-request:{request.pk}:recipient:{recipient.pk}:{digest[:12]}",
            template=template,
        )
        names.append(recipient.name)
    if not names:
        raise RequestError(_("Every link of this request is revoked."), code="request_all_revoked")
    return names


@transaction.atomic
def resend_request(request: ClientRequest, *, by: User | None) -> ClientRequest:
    """E-mail every recipient whose link is not revoked a fresh link; the old links stop working.

    Possible while the request is open (waiting, or answered in part: the answers so far stay), so a
    recipient whose link expired can still be reached.
    """
    locked = lock_request(request)
    if not locked.is_open:
        raise RequestClosedError(
            _("Only a request still waiting for answers can be sent again."), code="request_not_open"
        )
    names = _renew_links(locked, template="request")
    record_event(
        locked.order,
        OrderEvent.Kind.REQUEST_SENT,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=_("Sent again: %(title)s") % {"title": locked.title},
        data={"request": locked.pk, "form": locked.form_name(), "recipients": names, "resent": True},
    )
    return locked


@transaction.atomic
def revoke_recipient(recipient: Recipient, *, by: User | None) -> Recipient:
    """Make one recipient's link stop working at once (idempotent)."""
    locked = Recipient.objects.select_for_update().select_related("request__order").get(pk=recipient.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(
            locked.request.order,
            OrderEvent.Kind.REQUEST_CHANGED,
            by=by,
            message=_("Link revoked for %(name)s") % {"name": locked.name},
            data={"request": locked.request_id, "revoked": locked.pk},
        )
    return locked


@transaction.atomic
def reopen_request(request: ClientRequest, *, by: User | None) -> ClientRequest:
    """Let the recipients change their answers again after they submitted.

    Each recipient whose link is not revoked is e-mailed that the request was reopened, with a new
    link (the old one may have expired); older links stop working.
    """
    locked = lock_request(request)
    if locked.status != ClientRequest.Status.SUBMITTED:
        raise RequestError(_("Only an answered request can be reopened."), code="request_not_submitted")
    locked.status = ClientRequest.Status.STARTED
    locked.save(update_fields=["status", "updated_at"])
    names = _renew_links(locked, template="reopened")
    record_event(
        locked.order,
        OrderEvent.Kind.REQUEST_REOPENED,
        by=by,
        audience=OrderEvent.Audience.CLIENT,
        message=locked.title,
        data={"request": locked.pk, "recipients": names},
    )
    return locked
