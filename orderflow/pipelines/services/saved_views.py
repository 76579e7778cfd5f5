"""Saved views: a named set of order-list filters, kept for its owner or shared with all staff."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from orderflow.accounts.models import User
from orderflow.errors import DomainError
from orderflow.pipelines.models import SavedView

NAME_MAX_LENGTH = 80
QUERY_MAX_LENGTH = 1000


class SavedViewError(DomainError):
    code = "saved_view_invalid"


def save_view(*, owner: User, name: str, query: str, is_shared: bool) -> SavedView:
    """Keep the list filters `query` (a query string, stored as given) under `name`.

    Saving again under the same name replaces the filters; two saves of one name at once end with
    one view (the later request finds the row the other created). The caller puts `query` in its
    canonical form first, so equal filters give equal views.
    """
    name = name.strip()
    if not name:
        raise SavedViewError(_("Give the view a name."), code="saved_view_name_missing")
    if len(name) > NAME_MAX_LENGTH:
        raise SavedViewError(
            _("A view's name has at most %(count)d characters.") % {"count": NAME_MAX_LENGTH},
            code="saved_view_name_too_long",
        )
    if len(query) > QUERY_MAX_LENGTH:
        raise SavedViewError(_("These filters are too long to save."), code="saved_view_query_too_long")
    try:
        with transaction.atomic():
            view, _created = SavedView.objects.update_or_create(
                owner=owner, name=name, defaults={"query": query, "is_shared": is_shared}
            )
    except IntegrityError:  # the same name saved twice at once: the other request won
        view = SavedView.objects.get(owner=owner, name=name)
    return view
