"""Staff pages for contacts: the list, a page to create or edit one, and the picker's search."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from orderflow.accounts import selectors as contact_selectors
from orderflow.accounts.models import Contact, Organisation, User
from orderflow.accounts.services import ContactInputError, create_contact, update_contact
from orderflow.backoffice.forms import ContactForm, time_zone_names
from orderflow.errors import DomainError
from orderflow.pipelines.selectors import order_counts_by_client

LIST_PAGE_SIZE = 50
# The forms that use the picker, and what each may pick: the order's client (anyone), a person's company.
PICKERS = {"client": "", "company": Contact.Kind.COMPANY}


def _staff(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


def show_contact_errors(form: Any, error: ContactInputError, *, names: dict[str, str] | None = None) -> None:
    """Each of the service's messages next to its input (`names` maps detail names to form fields)."""
    for detail, message in error.errors.items():
        name = (names or {}).get(detail, detail)
        form.add_error(name if name in form.fields else None, message)


def picker_context(
    name: str, *, search: str = "", selected: Contact | None = None, label: str = ""
) -> dict[str, Any]:
    """What the contact picker shows: the chosen contact first, then up to 20 matches for `search`."""
    kind = PICKERS[name]
    choices = contact_selectors.contacts_for_picker(search, kind=kind) if search.strip() else []
    if selected is not None:
        choices = [selected, *(contact for contact in choices if contact.pk != selected.pk)]
        choices = choices[: contact_selectors.PICKER_LIMIT]
    return {
        "picker_name": name,
        "picker_kind": kind,
        "picker_label": label,
        "search": search,
        "selected": selected,
        "choices": choices,
        "has_more": search.strip() and len(choices) >= contact_selectors.PICKER_LIMIT,
        "limit": contact_selectors.PICKER_LIMIT,
    }


@login_required
@permission_required("accounts.view_contact", raise_exception=True)
@require_GET
def contact_search(request: HttpRequest) -> HttpResponse:
    """The picker's matches for what was typed (htmx), keeping the contact already chosen on top."""
    name = request.GET.get("field", "")
    if name not in PICKERS:
        raise Http404
    chosen = request.GET.get(name, "")
    selected = None
    if chosen.isdigit() and len(chosen) < 19:
        contacts = Contact.objects.select_related("company")
        selected = contacts.filter(
            pk=int(chosen), **({"kind": PICKERS[name]} if PICKERS[name] else {})
        ).first()
    context = picker_context(name, search=request.GET.get(f"{name}_search", "")[:200], selected=selected)
    return render(request, "backoffice/_contact_choices.html", context)


@login_required
@permission_required("accounts.view_contact", raise_exception=True)
def contact_list(request: HttpRequest) -> HttpResponse:
    """Contacts by name, narrowed by a search over name and e-mail and by kind, 50 a page."""
    search = request.GET.get("q", "")[:200]
    kind = request.GET.get("kind", "")
    page = Paginator(contact_selectors.contacts_matching(search, kind=kind), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    contacts = list(page.object_list)
    counts = order_counts_by_client([contact.pk for contact in contacts])
    rows = [(contact, counts.get(contact.pk, 0)) for contact in contacts]
    context = {"page": page, "rows": rows, "search": search, "kind": kind, "kinds": Contact.Kind.choices}
    return render(request, "backoffice/contact_list.html", context)


def _contact_page(
    request: HttpRequest, form: ContactForm, contact: Contact | None, *, status: int = 200
) -> HttpResponse:
    company = form.cleaned_data.get("company") if form.is_bound and hasattr(form, "cleaned_data") else None
    if company is None and contact is not None and not form.is_bound:
        company = contact.company
    context = {
        "form": form,
        "contact": contact,
        "time_zones": time_zone_names(),
        **picker_context(
            "company",
            search=request.POST.get("company_search", "") if form.is_bound else "",
            selected=company,
            label=str(form["company"].label),
        ),
    }
    return render(request, "backoffice/contact_form.html", context, status=status)


@login_required
@permission_required("accounts.add_contact", raise_exception=True)
def contact_create(request: HttpRequest) -> HttpResponse:
    default_zone = Organisation.current().time_zone
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        initial=ContactForm.initial_for(None, default_time_zone=default_zone),
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact = create_contact(form.to_details(), by=_staff(request))
        except ContactInputError as error:
            show_contact_errors(form, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Contact “%(name)s” created.") % {"name": contact.name})
            return redirect("backoffice:contact-list")
    return _contact_page(request, form, None, status=422 if form.errors else 200)


@login_required
@permission_required("accounts.change_contact", raise_exception=True)
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.select_related("company"), pk=pk)
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        initial=ContactForm.initial_for(contact, default_time_zone=contact.time_zone),
    )
    if request.method == "POST" and form.is_valid():
        try:
            update_contact(contact, form.to_details(), by=_staff(request))
        except ContactInputError as error:
            show_contact_errors(form, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Contact “%(name)s” saved.") % {"name": contact.name})
            return redirect("backoffice:contact-list")
    return _contact_page(request, form, contact, status=422 if form.errors else 200)
