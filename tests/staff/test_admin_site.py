"""The staff site's per-request savings (claims.staff.site): a user's permissions in one
query with the same answers as Django's ModelBackend, and the app index built only on
the pages that show it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from claims.domain import roles
from claims.staff.site import PermissionsModelBackend
from tests.support.factories import staff

pytestmark = pytest.mark.django_db


def _perm(codename: str) -> Permission:
    return Permission.objects.get(codename=codename, content_type__app_label="claims")


def test_a_user_has_their_own_and_their_groups_permissions_from_one_query(
    django_assert_num_queries,
):
    group = Group.objects.create(name="Readers")
    group.permissions.add(_perm("view_claim"), _perm("add_note"))
    user = User.objects.create_user("reader", is_staff=True)
    user.groups.add(group)
    user.user_permissions.add(_perm("add_note"), _perm("view_offer"))
    user = User.objects.get(pk=user.pk)

    with django_assert_num_queries(1):
        perms = PermissionsModelBackend().get_all_permissions(user)
        assert user.has_perm("claims.view_offer")  # cached on the user: no second query

    assert perms == {"claims.view_claim", "claims.add_note", "claims.view_offer"}
    assert not user.has_perm("claims.approve_offer")


def test_inactive_users_have_no_permissions_and_superusers_have_all():
    inactive = User.objects.create_user("gone", is_staff=True, is_active=False)
    inactive.user_permissions.add(_perm("view_claim"))
    boss = User.objects.create_superuser("boss", "boss@example.test", "x" * 20)

    assert PermissionsModelBackend().get_all_permissions(inactive) == set()
    assert "claims.approve_offer" in PermissionsModelBackend().get_all_permissions(boss)
    assert len(PermissionsModelBackend().get_all_permissions(boss)) == Permission.objects.count()


def test_each_role_keeps_exactly_the_rights_django_gives_it():
    from django.contrib.auth.backends import ModelBackend

    for role in roles.ROLES:
        user = staff(role)
        ours = PermissionsModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
        django = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
        assert ours == django, role


def test_the_admin_index_still_lists_what_the_role_may_open(client):
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    page = client.get(reverse("admin:index")).content.decode()
    app = client.get(reverse("admin:app_list", args=["claims"]))

    assert reverse("admin:claims_registerentry_changelist") in page
    assert app.status_code == 200
    assert reverse("admin:claims_scheme_changelist") in app.content.decode()
