"""Contacts in the staff workspace: the list, the create/edit page, the picker that finds a client by
typing (never listing every contact), and the order form creating a client with zone and channel."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from orderflow.accounts.models import Contact
from orderflow.accounts.roles import Role
from orderflow.accounts.selectors import PICKER_LIMIT
from orderflow.backoffice.contacts import LIST_PAGE_SIZE
from orderflow.pipelines.models import Order
from tests.factories import ContactFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

SEARCH_URL = reverse("backoffice:contact-search")
LIST_URL = reverse("backoffice:contact-list")
NEW_URL = reverse("backoffice:contact-create")
ORDER_URL = reverse("backoffice:order-create")


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def _many_contacts(count: int) -> None:
    Contact.objects.bulk_create(
        [Contact(name=f"Baker {n:04d}", email=f"baker{n:04d}@bakeries.example") for n in range(count)]
    )


def _picked(response) -> list[str]:
    return re.findall(r'name="client" value="(\d+)"', response.content.decode())


# --- the picker -----------------------------------------------------------------------------------


def test_the_picker_finds_clients_by_name_or_e_mail(rep_client) -> None:
    ana = ContactFactory(name="Ana Baker", email="ana@padaria.pt")
    bea = ContactFactory(name="Beatriz", email="bea@baker.example")
    ContactFactory(name="Carlos", email="carlos@garage.pt")

    response = rep_client.get(SEARCH_URL, {"field": "client", "client_search": "bak"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert _picked(response) == [str(ana.pk), str(bea.pk)]
    nothing = rep_client.get(SEARCH_URL, {"field": "client", "client_search": "zzz"}).content.decode()
    assert "No contact matches “zzz”." in nothing


def test_the_picker_shows_at_most_twenty_and_keeps_the_chosen_one(rep_client) -> None:
    _many_contacts(60)
    chosen = Contact.objects.get(name="Baker 0059")

    response = rep_client.get(SEARCH_URL, {"field": "client", "client_search": "baker", "client": chosen.pk})

    picked = _picked(response)
    assert len(picked) == PICKER_LIMIT
    assert picked[0] == str(chosen.pk)
    assert f'value="{chosen.pk}" checked' in response.content.decode()
    assert "type more to narrow them down" in response.content.decode()


def test_the_company_picker_offers_companies_only(rep_client) -> None:
    company = ContactFactory(name="Acme Bakers", kind="company")
    ContactFactory(name="Acme Baker (person)")
    page = rep_client.get(SEARCH_URL, {"field": "company", "company_search": "acme"}).content.decode()
    assert re.findall(r'name="company" value="(\d*)"', page) == ["", str(company.pk)]


def test_an_unknown_picker_is_not_found(rep_client) -> None:
    assert rep_client.get(SEARCH_URL, {"field": "owner", "owner_search": "a"}).status_code == 404


@pytest.mark.parametrize("contacts", [5, 500])
def test_the_picker_asks_the_same_queries_for_few_or_many_contacts(
    rep_client, django_assert_num_queries, contacts
) -> None:
    _many_contacts(contacts)
    rep_client.get(SEARCH_URL, {"field": "client", "client_search": "baker"})
    # session, user, two for permissions, the matches
    with django_assert_num_queries(5):
        response = rep_client.get(SEARCH_URL, {"field": "client", "client_search": "baker"})
    assert len(_picked(response)) == min(contacts, PICKER_LIMIT)


@pytest.mark.parametrize("contacts", [1, 400])
def test_the_order_form_never_lists_every_contact(
    rep_client, web_pipeline, django_assert_num_queries, contacts
) -> None:
    _many_contacts(contacts)
    rep_client.get(ORDER_URL)
    # session, user, two for permissions, organisation (its zone), pipelines (twice: the select
    # renders its choices after checking for them), owners; none for contacts
    with django_assert_num_queries(8):
        page = rep_client.get(ORDER_URL).content.decode()
    assert "Baker 0000" not in page
    assert 'id="id_client_search"' in page


# --- the order form -------------------------------------------------------------------------------


def _order_form(pipeline, **data):
    return {"pipeline": pipeline.pk, "title": "Bakery website", **data}


def test_an_order_for_a_client_found_with_the_picker(rep_client, web_pipeline) -> None:
    ana = ContactFactory(name="Ana Baker")
    response = rep_client.post(ORDER_URL, _order_form(web_pipeline, client=ana.pk))
    order = Order.objects.get()
    assert response["Location"] == reverse("backoffice:order-detail", args=[order.pk])
    assert order.client == ana
    assert Contact.objects.count() == 1


def test_an_order_for_a_new_client_keeps_their_zone_and_channel(rep_client, web_pipeline) -> None:
    rep_client.post(
        ORDER_URL,
        _order_form(
            web_pipeline,
            new_client_name="Portas Ferreira Lda",
            new_client_kind="company",
            new_client_email="",
            new_client_phone="+351 912 345 678",
            new_client_language="pt",
            new_client_time_zone="Europe/Lisbon",
            new_client_preferred_channel="sms",
        ),
    )
    client = Order.objects.get().client
    assert (client.name, client.kind, client.phone) == ("Portas Ferreira Lda", "company", "+351912345678")
    assert (client.language, client.time_zone, client.preferred_channel) == ("pt", "Europe/Lisbon", "sms")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"new_client_time_zone": "Mars/Olympus"}, "new_client_time_zone", "is not a time zone name"),
        ({"new_client_email": "ana@@bakery"}, "new_client_email", "is not an e-mail address"),
        ({"new_client_email": "taken@bakery.pt"}, "new_client_email", "already has the e-mail address"),
    ],
    ids=["zone", "email", "duplicate"],
)
def test_a_wrong_new_client_creates_neither_client_nor_order(
    rep_client, web_pipeline, data, field, message
) -> None:
    ContactFactory(name="Taken", email="taken@bakery.pt")
    form = {"new_client_name": "Ana", "new_client_email": "ana@bakery.pt", **data}

    response = rep_client.post(ORDER_URL, _order_form(web_pipeline, **form))

    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert f'id="id_{field}_error"' in page
    assert not Order.objects.exists()
    assert Contact.objects.count() == 1


def test_a_vanished_client_is_refused(rep_client, web_pipeline) -> None:
    response = rep_client.post(ORDER_URL, _order_form(web_pipeline, client=999999))
    assert response.status_code == 422
    assert "That contact no longer exists" in response.content.decode()
    assert not Order.objects.exists()


# --- the contact pages ----------------------------------------------------------------------------


def test_staff_create_a_company_then_a_person_in_it(rep_client) -> None:
    response = rep_client.post(
        NEW_URL,
        {
            "kind": "company",
            "name": "Portas Ferreira Lda",
            "email": "geral@portas.pt",
            "language": "pt",
            "time_zone": "Europe/Lisbon",
            "preferred_channel": "email",
        },
    )
    assert response["Location"] == LIST_URL
    company = Contact.objects.get(kind="company")
    rep_client.post(
        NEW_URL,
        {
            "kind": "person",
            "name": "Joana Ferreira",
            "company": company.pk,
            "phone": "+351 912 345 678",
            "language": "pt",
            "time_zone": "Europe/Lisbon",
            "preferred_channel": "call",
        },
    )
    joana = Contact.objects.get(name="Joana Ferreira")
    assert (joana.company, joana.preferred_channel) == (company, "call")
    listing = rep_client.get(LIST_URL).content.decode()
    assert "Portas Ferreira Lda" in listing
    assert "Phone call · Portuguese" in listing


def test_a_refused_contact_says_why_next_to_the_input(rep_client) -> None:
    ContactFactory(name="Ana Baker", email="ana@bakery.pt")
    response = rep_client.post(
        NEW_URL,
        {
            "kind": "person",
            "name": "Ana B.",
            "email": "ANA@bakery.pt",
            "language": "en",
            "time_zone": "Atlantis/Capital",
            "preferred_channel": "email",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "“Ana Baker” already has the e-mail address ana@bakery.pt." in page
    assert "Atlantis/Capital is not a time zone name" in page
    assert Contact.objects.count() == 1


def test_a_screen_reader_hears_each_inputs_help_and_error(rep_client) -> None:
    """Every id an input's aria-describedby names is on the page: the help under the time zone and the
    refusal beside it are read out with the input, not left for the eye alone."""
    response = rep_client.post(
        NEW_URL,
        {
            "kind": "person",
            "name": "Ana",
            "language": "en",
            "time_zone": "Atlantis/Capital",
            "preferred_channel": "email",
        },
    )
    page = response.content.decode()

    described = re.search(r'<input[^>]*name="time_zone"[^>]*aria-describedby="([^"]+)"', page)
    assert described is not None
    assert described.group(1).split() == ["id_time_zone_helptext", "id_time_zone_error"]
    for reference in {
        name for names in re.findall(r'aria-describedby="([^"]+)"', page) for name in names.split()
    }:
        assert f'id="{reference}"' in page, reference
    assert re.search(r'id="id_time_zone_error">[^<]*Atlantis/Capital is not a time zone name', page)


def test_editing_a_contact_shows_its_company_chosen(rep_client) -> None:
    company = ContactFactory(name="Acme", kind="company")
    bob = ContactFactory(name="Bob", company=company, email="bob@acme.pt")
    url = reverse("backoffice:contact-edit", args=[bob.pk])

    page = rep_client.get(url).content.decode()
    assert f'name="company" value="{company.pk}" checked' in page
    response = rep_client.post(
        url,
        {
            "kind": "person",
            "name": "Bob Builder",
            "company": "",
            "email": "bob@acme.pt",
            "language": "en",
            "time_zone": "Europe/London",
            "preferred_channel": "email",
        },
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert (bob.name, bob.company, bob.time_zone) == ("Bob Builder", None, "Europe/London")


@pytest.mark.parametrize("contacts", [3, LIST_PAGE_SIZE * 3])
def test_the_contact_list_asks_the_same_queries_for_few_or_many(
    rep_client, rep, django_assert_num_queries, contacts
) -> None:
    _many_contacts(contacts)
    for contact in Contact.objects.order_by("name")[:3]:
        OrderFactory(client=contact, by=rep)
    rep_client.get(LIST_URL)
    # session, user, two for permissions, the count, the page of contacts, their order counts
    with django_assert_num_queries(7):
        response = rep_client.get(LIST_URL)
    assert response.content.decode().count('data-testid="contact-row"') == min(contacts, LIST_PAGE_SIZE)


def test_the_contact_list_searches_and_pages(rep_client) -> None:
    _many_contacts(LIST_PAGE_SIZE + 2)
    ContactFactory(name="Zé Padeiro", email="ze@padaria.pt")
    assert rep_client.get(LIST_URL, {"q": "PADARIA"}).content.decode().count('data-testid="contact-row"') == 1
    second = rep_client.get(LIST_URL, {"page": 2}).content.decode()
    assert second.count('data-testid="contact-row"') == 3


def test_client_logins_cannot_use_the_contact_pages(client) -> None:
    client.force_login(UserFactory(role=Role.CLIENT))
    ana = ContactFactory(name="Ana")
    for url in (LIST_URL, NEW_URL, reverse("backoffice:contact-edit", args=[ana.pk])):
        assert client.get(url).status_code == 403
    assert client.get(SEARCH_URL, {"field": "client", "client_search": "an"}).status_code == 403
    assert client.post(NEW_URL, {"name": "Eve"}).status_code == 403
