"""Signing staff in for tests: `force_login` plus a completed second factor.

The staff site opens only to a session that passed a TOTP (claims.staff.auth). Tests
about something else sign in through `StaffClient.force_login`, which enrols the
user and records the second factor as allauth's TOTP stage would; tests about the
sign-in itself use a plain `django.test.Client` and the real forms.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value
from django.test import Client

# allauth keeps, beside the records, whose they are.
RECORDS_USER_KEY = "account_authentication_methods_user"


def enrol(user: Any) -> str:
    """Give `user` a TOTP authenticator and return its secret."""
    secret = generate_totp_secret()
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    return f"{hotp_value(secret, int(time.time()) // 30):06d}"


class StaffClient(Client):
    def force_login(self, user: Any, backend: str | None = None) -> None:
        super().force_login(user, backend)
        if not user.is_staff:
            return
        authenticator = Authenticator.objects.filter(
            user=user, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            enrol(user)
            authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        session = self.session
        now = time.time()
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "password", "at": now, "username": user.get_username()},
            {"method": "mfa", "at": now, "id": authenticator.pk, "type": "totp"},
        ]
        session[RECORDS_USER_KEY] = str(user.pk)
        session.save()
