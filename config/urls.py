from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from claims.staff import auth as staff_auth
from claims.staff import privacy as privacy_admin

admin.site.site_header = "Redress"
admin.site.site_title = "Redress staff"
admin.site.index_title = "Claims administration"
# Staff sign in through allauth (password, then TOTP), never the admin's own form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
# The workspace has its own navigation (queues, dashboard); the sidebar would repeat the
# index on every page and costs a fifth of the claims list's time.
admin.site.enable_nav_sidebar = False

# Rate-limited requests (ours and allauth's staff sign-in limits) get one clear page.
handler429 = "claims.claimant.views.common.too_many"

urlpatterns = [
    path(
        "admin/claims/claim/<id:claim_id>/subject-access/",
        admin.site.admin_view(privacy_admin.subject_access_view),
        name="claims_subject_access",
    ),
    path("admin/", admin.site.urls),
    # allauth's TOTP enrolment, recording the second factor in the session (staff_auth).
    path("staff/2fa/totp/activate/", staff_auth.activate_totp, name="mfa_activate_totp"),
    path("staff/", include("allauth.urls")),
    path("", include("claims.claimant.urls")),
]
