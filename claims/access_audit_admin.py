"""The staff access log in the admin: who looked at which claim, what and when."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from claims.admin import ReadOnlyAdmin
from claims.models import StaffAccess


@admin.register(StaffAccess)
class StaffAccessAdmin(ReadOnlyAdmin):
    """Who looked at what. For senior caseworkers and scheme administrators
    (claims.view_staffaccess); nobody can change or delete a row."""

    list_display = ["at", "user", "what", "claim", "object_id"]
    list_filter = ["what", "at"]
    list_select_related = ["user", "claim"]
    search_fields = ["claim__reference", "user__username"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("claims.view_staffaccess"))
