"""The staff site's per-request costs: the index of apps built only when a page shows
it, and a user's permissions read in one query instead of two, and then kept in the
cache until someone's role changes (claims.queries.caching).

Every admin page puts the list of apps and models in its context for the navigation
sidebar, which Redress turns off (config/urls.py): building it checks each model's
permissions and reverses its URLs on every page. Here it is built only when a page
uses it (the index and the app pages).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.utils.functional import SimpleLazyObject

from claims.queries import caching


class RedressAdminSite(AdminSite):
    def get_app_list(self, request: Any, app_label: str | None = None) -> Any:
        return SimpleLazyObject(lambda: AdminSite.get_app_list(self, request, app_label))


class PermissionsModelBackend(ModelBackend):
    """Django's ModelBackend, with the user's own and their groups' permissions read in
    one query (a UNION) instead of two, and kept in the cache between requests until
    any role changes. Same answers, same per-request cache on the user."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            kind = "all" if user_obj.is_superuser else str(user_obj.pk)
            user_obj._perm_cache = caching.cached(
                f"redress:permissions:{kind}", caching.ROLES, lambda: _read(user_obj)
            )
        return user_obj._perm_cache  # type: ignore[no-any-return]


def _read(user: Any) -> frozenset[str]:
    if user.is_superuser:
        perms = Permission.objects.values_list("content_type__app_label", "codename")
    else:
        fields = ("content_type__app_label", "codename")
        own = Permission.objects.filter(user=user).values_list(*fields).order_by()
        grouped = Permission.objects.filter(group__user=user).values_list(*fields).order_by()
        perms = own.union(grouped)
    # Shared by every request in the process (claims.queries.caching), so never to be changed.
    return frozenset(f"{app}.{codename}" for app, codename in perms)
