"""Creating and changing contacts through accounts.services: what is tidied, what is refused."""

from __future__ import annotations

import pytest

from orderflow.accounts.models import Contact
from orderflow.accounts.roles import Role
from orderflow.accounts.services import ContactDetails, ContactInputError, create_contact, update_contact
from orderflow.errors import DomainError
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(role=Role.REP)


def _refused(details: ContactDetails, by) -> dict[str, str]:
    before = Contact.objects.count()
    with pytest.raises(ContactInputError) as refused:
        create_contact(details, by=by)
    assert Contact.objects.count() == before
    return refused.value.errors


def test_a_person_of_a_company_is_created_with_how_to_reach_them(rep) -> None:
    company = create_contact(
        ContactDetails(name="Portas Ferreira Lda", kind="company", email="geral@portas.pt"), by=rep
    )

    person = create_contact(
        ContactDetails(
            name="  Joana Ferreira ",
            company=company,
            email="Joana@Portas.PT",
            phone="+351 912-345 678",
            language="pt",
            time_zone="Europe/Lisbon",
            preferred_channel="sms",
        ),
        by=rep,
    )

    person.refresh_from_db()
    assert (person.name, person.email, person.phone) == ("Joana Ferreira", "joana@portas.pt", "+351912345678")
    assert (person.language, person.time_zone, person.preferred_channel) == ("pt", "Europe/Lisbon", "sms")
    assert person.company == company
    assert list(company.people.all()) == [person]


@pytest.mark.parametrize(
    ("details", "field", "words"),
    [
        (ContactDetails(name="Ana", email="ana@@bakery"), "email", "not an e-mail address"),
        (
            ContactDetails(name="Ana", email="ana@bakery.pt", time_zone="Europe/Lisboa"),
            "time_zone",
            "not a time zone",
        ),
        (ContactDetails(name="Ana", email="ana@bakery.pt", phone="912"), "phone", "international form"),
        (ContactDetails(name="   ", email="ana@bakery.pt"), "name", "name"),
        (ContactDetails(name="Ana", preferred_channel="email"), "preferred_channel", "e-mail address"),
        (ContactDetails(name="Ana", preferred_channel="sms"), "preferred_channel", "phone number"),
        (ContactDetails(name="Ana", preferred_channel="messenger"), "preferred_channel", "messenger"),
        (
            ContactDetails(name="Ana", email="a@b.pt", preferred_channel="portal"),
            "preferred_channel",
            "portal",
        ),
        (ContactDetails(name="Ana", email="a@b.pt", language="de"), "language", "languages"),
        (ContactDetails(name="Ana", email="a@b.pt", kind="robot"), "kind", "person or a company"),
    ],
    ids=["email", "zone", "phone", "name", "email-channel", "sms", "messenger", "portal", "language", "kind"],
)
def test_wrong_details_are_refused_naming_the_detail(rep, details, field, words) -> None:
    errors = _refused(details, rep)
    assert field in errors
    assert words in errors[field]


def test_a_duplicate_e_mail_is_refused_whatever_its_case(rep) -> None:
    ContactFactory(name="Ana Baker", email="ana@bakery.pt")
    errors = _refused(ContactDetails(name="Ana B.", email=" ANA@Bakery.pt"), rep)
    assert errors["email"] == "“Ana Baker” already has the e-mail address ana@bakery.pt."


def test_a_company_cannot_belong_to_a_company_nor_a_person_to_a_person(rep) -> None:
    company = ContactFactory(kind="company", name="Acme")
    person = ContactFactory(name="Bob")
    assert "company" in _refused(ContactDetails(name="Acme Lda", kind="company", company=company), rep)
    assert (
        "is a person"
        in _refused(ContactDetails(name="Eve", email="eve@x.pt", company=person), rep)["company"]
    )


def test_updating_keeps_the_own_e_mail_and_refuses_anothers(rep) -> None:
    ana = ContactFactory(name="Ana", email="ana@bakery.pt")
    ContactFactory(name="Bea", email="bea@bakery.pt")

    update_contact(
        ana, ContactDetails(name="Ana Baker", email="ana@bakery.pt", time_zone="Europe/Lisbon"), by=rep
    )
    with pytest.raises(ContactInputError) as refused:
        update_contact(ana, ContactDetails(name="Ana Baker", email="BEA@bakery.pt"), by=rep)

    assert "email" in refused.value.errors
    ana.refresh_from_db()
    assert (ana.name, ana.email, ana.time_zone) == ("Ana Baker", "ana@bakery.pt", "Europe/Lisbon")


def test_a_company_with_people_stays_a_company(rep) -> None:
    company = ContactFactory(kind="company", name="Acme", email="hello@acme.pt")
    ContactFactory(name="Bob", company=company)
    with pytest.raises(ContactInputError) as refused:
        update_contact(company, ContactDetails(name="Acme", email="hello@acme.pt"), by=rep)
    assert refused.value.errors["kind"] == "1 person belongs to this company; it stays a company."
    company.refresh_from_db()
    assert company.kind == "company"


def test_a_contact_cannot_be_its_own_company(rep) -> None:
    company = ContactFactory(kind="company", name="Acme")
    with pytest.raises(ContactInputError):
        update_contact(
            company, ContactDetails(name="Acme", kind="person", company=company, email="a@acme.pt"), by=rep
        )


def test_people_without_the_contact_permissions_are_refused() -> None:
    client_user = UserFactory(role=Role.CLIENT)
    with pytest.raises(DomainError):
        create_contact(ContactDetails(name="Ana", email="ana@bakery.pt"), by=client_user)
    ana = ContactFactory(name="Ana")
    with pytest.raises(DomainError):
        update_contact(ana, ContactDetails(name="Hacked", email="x@y.pt"), by=client_user)
    ana.refresh_from_db()
    assert ana.name == "Ana"
