"""Headers every response carries, and how long a staff session may last.

Django's SecurityMiddleware sends HSTS, nosniff, Referrer-Policy and
Cross-Origin-Opener-Policy, and django-csp the Content Security Policy; this
module adds what neither does: Permissions-Policy, `Cache-Control: no-store` on
every page that is not a static file, and staff session timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import urlencode

STAFF_SESSION_KEY = "redress_staff"
# Saving the session costs a write; "last seen" moves at most once a minute.
SEEN_REFRESH_SECONDS = 60


class SecurityHeadersMiddleware:
    """Sits after whitenoise, so static files (which hold nothing personal) keep their
    long cache; every other response is never stored by a browser or a proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if "no-store" not in response.headers.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that a request which changed nothing in its session never
    touches the browser's cookie. Django deletes the cookie whenever it names a session
    that is not there, which races with a sign-in: opening a claim replaces the session
    (a new key, the old one deleted), and a request already on its way with the old
    cookie (the page's icon, a second tab, a double click) came back telling the browser
    to delete its cookie, by then the new one: the claimant was signed straight out."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and not session.modified and session.is_empty():
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)


@receiver(user_logged_in)
def _staff_session_start(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    # Set at sign-in, when the session is written anyway, so no page pays a write for it.
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[STAFF_SESSION_KEY] = {"since": now, "seen": now}


class StaffSessionTimeoutMiddleware:
    """A signed-in staff session ends after STAFF_IDLE_MINUTES without a request, and
    STAFF_SESSION_HOURS after it began, however busy: a session cookie stolen from a
    shared office machine is worth little for long."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            state = request.session.get(STAFF_SESSION_KEY)
            if not isinstance(state, dict):
                state = {"since": now, "seen": now}
                request.session[STAFF_SESSION_KEY] = state
            idle = now - float(state.get("seen", 0))
            age = now - float(state.get("since", 0))
            if idle > settings.STAFF_IDLE_MINUTES * 60 or age > settings.STAFF_SESSION_HOURS * 3600:
                logout(request)
                # Said on the sign-in page, so nobody wonders where their work went.
                messages.info(
                    request,
                    f"For security you were signed out after {settings.STAFF_IDLE_MINUTES} "
                    "minutes without activity. Sign in again to carry on."
                    if idle > settings.STAFF_IDLE_MINUTES * 60
                    else f"For security a staff session lasts at most "
                    f"{settings.STAFF_SESSION_HOURS} hours. Sign in again to carry on.",
                )
                query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
                return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
            if idle >= SEEN_REFRESH_SECONDS:
                state["seen"] = now
                request.session[STAFF_SESSION_KEY] = state
        return self.get_response(request)


def client_ip(request: HttpRequest) -> str:
    """The address a request came from: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies
    the address the outermost of them saw (allauth's rule, so staff sign-in limits and
    ours count the same address). A request that bypassed the proxies counts as itself."""
    from allauth.core.internal.httpkit import get_client_ip

    try:
        return get_client_ip(request) or request.META.get("REMOTE_ADDR") or "-"
    except ImproperlyConfigured:
        return request.META.get("REMOTE_ADDR") or "-"
