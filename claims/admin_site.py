"""The staff site's per-request costs: the index of apps built only when a page shows
it, and a user's permissions read in one query instead of two.

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


class RedressAdminSite(AdminSite):
    def get_app_list(self, request: Any, app_label: str | None = None) -> Any:
        return SimpleLazyObject(lambda: AdminSite.get_app_list(self, request, app_label))


class PermissionsModelBackend(ModelBackend):
    """Django's ModelBackend, with the user's own and their groups' permissions read in
    one query (a UNION) instead of two, on every staff page. Same answers, same
    per-request cache on the user."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                fields = ("content_type__app_label", "codename")
                own = Permission.objects.filter(user=user_obj).values_list(*fields).order_by()
                grouped = (
                    Permission.objects.filter(group__user=user_obj).values_list(*fields).order_by()
                )
                perms = own.union(grouped)
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in perms}
        return user_obj._perm_cache  # type: ignore[no-any-return]
