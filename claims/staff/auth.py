"""Staff sign-in: a password, then a second factor (TOTP, with recovery codes).

django-allauth runs the sign-in, the TOTP stage and enrolment; django-axes locks an
account out after repeated password failures. This module holds the glue: no
public sign-up, and a middleware that lets no one into the staff site until this
session has passed a second factor. A staff user who has none yet is sent to
enrol first, so demo users enrol on their first sign-in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.core import context
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.views import ActivateTOTPView
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

SECOND_FACTOR = "mfa"


class StaffAccountAdapter(DefaultAccountAdapter):
    """Accounts are made by a scheme administrator, never by signing up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        # Enrolling a first authenticator straight after the password needs no second
        # typing of the password; changing or removing one later still does.
        if app == "allauth.mfa":
            request = context.request
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and not has_second_factor(user):
                records = get_authentication_records(request, user)
                recent = time.time() - app_settings.REAUTHENTICATION_TIMEOUT
                if any(r.get("method") == "password" and r["at"] > recent for r in records):
                    return False
        return bool(super().is_reauthentication_required(app=app, **kwargs))


def passed_second_factor(request: HttpRequest) -> bool:
    """True when this session's sign-in included a second factor (a TOTP or recovery
    code, or enrolling one, which proves the same possession)."""
    records = get_authentication_records(request, request.user)  # type: ignore[arg-type]
    return any(record.get("method") == SECOND_FACTOR for record in records)


def has_second_factor(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StaffSecondFactorMiddleware:
    """No page of the staff site opens for a session without a second factor.

    Sits after AuthenticationMiddleware. Anonymous requests pass: the admin sends
    them to sign in. Signed-in ones without a second factor are sent to enrol (no
    TOTP yet) or to prove it again (a session made before enrolling, or by any path
    that skipped the TOTP stage)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path.startswith(reverse("admin:index"))
            and request.user.is_authenticated
            and not passed_second_factor(request)
        ):
            if has_second_factor(request.user):
                target = reverse("mfa_reauthenticate")
            else:
                target = reverse("mfa_activate_totp")
            query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
            return HttpResponseRedirect(f"{target}?{query}")
        return self.get_response(request)


class StaffActivateTOTPView(ActivateTOTPView):
    """allauth's TOTP enrolment, which also counts as this session's second factor:
    enrolling means typing a code from the new authenticator. Recorded here, in the
    request, rather than from allauth's after-commit signal, so it is in the session
    before the next page asks for it."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        authenticator = Authenticator.objects.filter(
            user=self.request.user, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is not None:
            # Recent re-authentication too, so the recovery codes shown next open.
            record_authentication(
                self.request,
                self.request.user,
                SECOND_FACTOR,
                id=authenticator.pk,
                type="totp",
                reauthenticated=True,
            )
        return response


activate_totp = StaffActivateTOTPView.as_view()


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a sign-in attempt is for: allauth passes `username` to
    authenticate(); its form posts the field as `login`."""
    if credentials and credentials.get("username"):
        return str(credentials["username"])
    login = request.POST.get("login") if request.method == "POST" else None
    return login or None
