"""How a claimant reaches their own claim without a password.

A single-use link, emailed to the claim's address, valid for 10 minutes. Opening
it shows a confirm page; only the POST from that page uses it, so an email
scanner that follows links cannot burn it. A newer link cancels older ones. A
used link starts a session for that one claim, ended after 30 idle minutes.
Only a hash of each token is stored.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from claims.core import Actor, record_event
from claims.models import AccessLink, Claim

LINK_LIFETIME = dt.timedelta(minutes=10)
IDLE_TIMEOUT = dt.timedelta(minutes=30)
SEEN_REFRESH = dt.timedelta(minutes=1)
SESSION_KEY = "redress_claimant"


class LinkRefused(Exception):
    """A link that cannot be used: `reason` is used, expired, superseded or unknown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@transaction.atomic
def access_link_issue(*, claim: Claim, purpose: str) -> str:
    """A new link for `claim`; every earlier unused link for the same purpose stops working."""
    now = timezone.now()
    Claim.objects.select_for_update().filter(pk=claim.pk).values_list("pk").get()
    AccessLink.objects.filter(
        claim=claim, purpose=purpose, used_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=now)
    token = secrets.token_urlsafe(32)
    AccessLink.objects.create(
        claim=claim,
        purpose=purpose,
        token_hash=AccessLink.hash_token(token),
        expires_at=now + LINK_LIFETIME,
    )
    record_event(claim, action=f"link_sent_{purpose}", actor=Actor.system())
    return token


def access_link_peek(token: str, *, token_hash: str | None = None) -> AccessLink:
    """The link a token (or its hash) names, if it could still be used; uses nothing."""
    link = (
        AccessLink.objects.select_related("claim")
        .filter(token_hash=token_hash or AccessLink.hash_token(token or ""))
        .first()
    )
    _check_usable(link)
    assert link is not None
    return link


@transaction.atomic
def access_link_redeem(token: str, *, token_hash: str | None = None) -> AccessLink:
    link = (
        AccessLink.objects.select_for_update()
        .select_related("claim")
        .filter(token_hash=token_hash or AccessLink.hash_token(token or ""))
        .first()
    )
    _check_usable(link)
    assert link is not None
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    record_event(
        link.claim, action=f"link_used_{link.purpose}", actor=Actor.claimant(link.claim_id)
    )
    return link


def _check_usable(link: AccessLink | None) -> None:
    if link is None:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.cancelled_at is not None:
        raise LinkRefused("superseded")
    if link.expires_at <= timezone.now():
        raise LinkRefused("expired")


# --- The claimant's session ----------------------------------------------------


def claimant_sign_in(request: HttpRequest, claim: Claim) -> None:
    # A new session key: whoever held the old cookie does not inherit the claim.
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"claim": claim.pk, "seen": timezone.now().timestamp()}


def claimant_sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def claimant_claim_id(request: HttpRequest) -> int | None:
    """The claim this session may see, or None; an idle session is ended here."""
    state = request.session.get(SESSION_KEY)
    if not isinstance(state, dict) or "claim" not in state:
        return None
    now = timezone.now().timestamp()
    if now - float(state.get("seen", 0)) > IDLE_TIMEOUT.total_seconds():
        request.session.pop(SESSION_KEY, None)
        request.session["redress_timed_out"] = True
        return None
    # Saving the session costs an UPDATE and a commit; refreshing "last seen" once a
    # minute keeps the idle rule to within a minute without a write on every request.
    if now - float(state.get("seen", 0)) >= SEEN_REFRESH.total_seconds():
        state["seen"] = now
        request.session[SESSION_KEY] = state
    return int(state["claim"])
