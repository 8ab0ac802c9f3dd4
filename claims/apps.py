from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class RedressAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin on Redress's site (claims.admin_site.RedressAdminSite)."""

    default = False  # "claims" alone still means ClaimsConfig
    default_site = "claims.admin_site.RedressAdminSite"


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claims"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from claims import (
            caching,
            crypto,  # noqa: F401  (registers the key system check)
            security,  # noqa: F401  (starts each staff session's clock)
        )

        caching.connect()
