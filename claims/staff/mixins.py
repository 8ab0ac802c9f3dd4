"""Pieces shared by the admin modules."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class NoWritesMixin:
    """For records only `claims.actions` writes: nobody adds, changes or deletes them
    in the admin, superusers included. For model admins and inlines alike."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
