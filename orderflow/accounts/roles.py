"""The five roles are Django groups; this module says which permissions each one carries.

Groups are (re)created after every migrate, so a new permission reaches existing installations.
Staff roles (admin, manager, rep) use the staff workspace; contractors and clients use the portal.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q


class Role:
    ADMIN = "admin"
    MANAGER = "manager"
    REP = "rep"
    CONTRACTOR = "contractor"
    CLIENT = "client"

    ALL = (ADMIN, MANAGER, REP, CONTRACTOR, CLIENT)
    STAFF = (ADMIN, MANAGER, REP)


_ORDER_WORK = [
    "pipelines.view_order",
    "pipelines.add_order",
    "pipelines.change_order",
    "pipelines.move_order",
    "pipelines.view_pipeline",
    "pipelines.view_stage",
    "pipelines.view_orderevent",
    "accounts.view_contact",
    "accounts.add_contact",
    "accounts.change_contact",
    "notifications.view_outboxmessage",
    "notifications.change_outboxmessage",
]

# Managers and admins steer the business with the pipeline reports; reps work orders one at a time.
_REPORTS = ["pipelines.view_order_reports"]
# Marking anyone's task done (everyone may tick off the tasks they were given or gave).
_ANY_TASK = ["pipelines.change_stafftask"]
# Settings → Booking types: the kinds of call clients can book (reps only send their links).
_BOOKING_TYPES = [
    "scheduling.view_bookingtype",
    "scheduling.add_bookingtype",
    "scheduling.change_bookingtype",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMIN: [
        *_ORDER_WORK,
        *_REPORTS,
        *_ANY_TASK,
        *_BOOKING_TYPES,
        "pipelines.add_pipeline",
        "pipelines.change_pipeline",
        "pipelines.delete_pipeline",
        "pipelines.add_stage",
        "pipelines.change_stage",
        "pipelines.delete_stage",
        "pipelines.delete_order",
        "accounts.delete_contact",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_organisation",
        "accounts.change_organisation",
        "notifications.view_messagetemplate",
        "notifications.change_messagetemplate",
        "notifications.view_appriseendpoint",
        "notifications.add_appriseendpoint",
        "notifications.change_appriseendpoint",
    ],
    Role.MANAGER: [
        *_ORDER_WORK,
        *_REPORTS,
        *_ANY_TASK,
        *_BOOKING_TYPES,
        "pipelines.delete_order",
        "accounts.view_user",
    ],
    Role.REP: list(_ORDER_WORK),
    Role.CONTRACTOR: [],
    Role.CLIENT: [],
}


def ensure_roles() -> None:
    """Create the role groups and give each exactly its permissions. Idempotent."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        query = Q(pk__in=[])
        for name in names:
            app_label, codename = name.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.filter(query))
        # A permission of an app that has not migrated yet is simply absent; the post_migrate of
        # that app calls this again and completes the group.
        group.permissions.set(permissions)


def ensure_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    if getattr(sender, "label", None) == "accounts" or getattr(sender, "name", "").startswith("orderflow"):
        ensure_roles()
