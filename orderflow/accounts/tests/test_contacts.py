"""Contacts: people may belong to a company, a company may not belong to another company."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from orderflow.accounts.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_person_can_belong_to_a_company() -> None:
    company = ContactFactory(kind=Contact.Kind.COMPANY, name="Acme Lda")

    person = ContactFactory(name="Ana", company=company)

    assert list(company.people.all()) == [person]


def test_a_company_cannot_belong_to_another_company() -> None:
    holding = ContactFactory(kind=Contact.Kind.COMPANY, name="Acme Holding")

    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(kind=Contact.Kind.COMPANY, name="Acme Lda", company=holding)

    assert not Contact.objects.filter(name="Acme Lda").exists()


def test_a_person_who_becomes_a_company_must_leave_their_company_first() -> None:
    company = ContactFactory(kind=Contact.Kind.COMPANY, name="Acme Lda")
    person = ContactFactory(name="Ana Freelance", company=company)

    person.kind = Contact.Kind.COMPANY
    with pytest.raises(IntegrityError), transaction.atomic():
        person.save()

    person.refresh_from_db()
    assert person.kind == Contact.Kind.PERSON
