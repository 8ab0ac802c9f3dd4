"""A staff session for the benches: signed in with the second factor passed, as after
allauth's TOTP stage, so a bench times staff pages without typing a code."""

from __future__ import annotations

import time
from typing import Any


def signed_in_session_key(user: Any) -> str:
    from allauth.mfa.models import Authenticator
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    authenticator, _ = Authenticator.objects.get_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "bench"}}
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The backend a password sign-in records: the last one (axes' comes first). A session
    # naming a backend not in AUTHENTICATION_BACKENDS is anonymous.
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "username": user.username},
        {"method": "mfa", "at": time.time(), "id": authenticator.pk, "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.create()
    return str(session.session_key)
