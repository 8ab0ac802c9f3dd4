from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class RedressAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin on Redress's site (claims.staff.site.RedressAdminSite)."""

    default = False  # "claims" alone still means ClaimsConfig
    default_site = "claims.staff.site.RedressAdminSite"

    def ready(self) -> None:
        super().ready()  # the other apps' admin modules
        from django.contrib import admin

        from claims.staff.admin import register

        register(admin.site)


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claims"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.urls import register_converter

        from claims.domain import crypto  # noqa: F401  (registers the key system check)
        from claims.domain.references import IdConverter
        from claims.queries import caching
        from config import security  # noqa: F401  (starts each staff session's clock)

        caching.connect()
        # Before any URLconf is read: every URL that carries a row's id uses <id:...>.
        register_converter(IdConverter, "id")
