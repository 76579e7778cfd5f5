"""The five roles exist after migrate and carry the permissions the staff workspace relies on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from orderflow.accounts.roles import ROLE_PERMISSIONS, Role, ensure_roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _permissions_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_every_role_exists_after_migrate() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.ALL)


@pytest.mark.parametrize("role", Role.ALL)
def test_each_role_has_exactly_its_listed_permissions(role: str) -> None:
    assert _permissions_of(role) == set(ROLE_PERMISSIONS[role])


@pytest.mark.parametrize("role", Role.STAFF)
def test_staff_roles_can_create_and_move_orders(role: str) -> None:
    user = UserFactory(role=role)

    assert user.has_perm("pipelines.add_order")
    assert user.has_perm("pipelines.move_order")


@pytest.mark.parametrize("role", [Role.CLIENT, Role.CONTRACTOR])
def test_clients_and_contractors_cannot_see_or_move_orders_in_the_staff_workspace(role: str) -> None:
    user = UserFactory(role=role)

    assert not user.is_staff
    assert not user.has_perm("pipelines.move_order")
    assert not user.has_perm("pipelines.view_order")


def test_only_admins_may_change_pipelines() -> None:
    assert "pipelines.change_pipeline" in _permissions_of(Role.ADMIN)
    assert "pipelines.change_pipeline" not in _permissions_of(Role.MANAGER)
    assert "pipelines.change_pipeline" not in _permissions_of(Role.REP)


def test_recreating_roles_restores_a_permission_taken_away_by_hand() -> None:
    rep = Group.objects.get(name=Role.REP)
    rep.permissions.remove(*rep.permissions.filter(codename="move_order"))

    ensure_roles()

    assert "pipelines.move_order" in _permissions_of(Role.REP)
