"""Cross-site request forgery on every public endpoint and the staff site's forms: a
POST without a token, and one carrying another session's token, is refused with 403
and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLPattern, reverse

from claims.actions.access import access_link_issue
from claims.claimant import urls as claim_urls
from claims.domain.stages import Stage
from claims.models import AccessLink, AuditEvent, Claim
from tests.security.conftest import form_token
from tests.support.claimant import fill_draft, start_claim
from tests.support.factories import SchemeFactory, claim_in_stage

pytestmark = pytest.mark.django_db

ARGS = {"slug", "pk", "token", "category"}


def public_paths(claim: Claim, token: str) -> list[str]:
    """Every claimant URL pattern, with real values for its parts."""
    values = {
        "slug": claim.scheme.slug,
        "pk": claim.heads_of_loss.first().pk,  # type: ignore[union-attr]
        "token": token,
        "category": "bank_charges",
    }
    paths = []
    for pattern in claim_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        names = set(pattern.pattern.converters)
        assert names <= ARGS, f"{pattern.name}: teach this test about {names - ARGS}"
        paths.append(reverse(f"claims:{pattern.name}", kwargs={n: values[n] for n in names}))
    return paths


@pytest.fixture
def victim() -> tuple[Client, Claim, str]:
    """A claimant mid-claim, signed in, whose browser enforces nothing but holds a CSRF
    cookie of its own, as a real browser would after any page with a form."""
    client = Client(enforce_csrf_checks=True)
    scheme = SchemeFactory()
    helper = Client()
    claim = start_claim(helper, scheme)
    fill_draft(helper)
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.RESUME)
    # Signing in is itself protected: the confirm page's token is needed.
    confirm_token = form_token(client, f"/link/{token}/")
    assert client.post("/link/open/", {"csrfmiddlewaretoken": confirm_token}).status_code == 302
    return client, claim, access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)


def unchanged(before: tuple[int, int, int, Any]) -> bool:
    return snapshot() == before


def snapshot() -> tuple[int, int, int, Any]:
    return (
        AuditEvent.objects.count(),
        Claim.objects.count(),
        len(mail.outbox),
        list(Claim.objects.order_by("pk").values_list("stage", "version")),
    )


def test_every_public_post_without_a_token_is_refused(victim, attacker):
    client, claim, token = victim
    for path in public_paths(claim, token):
        before = snapshot()
        attacker.attempt(
            f"CSRF without a token: POST {path}",
            lambda path=path: client.post(path, {"what_happened": "forged", "reason": "x"}),
            lambda response, before=before: response.status_code == 403 and unchanged(before),
        )


def test_every_public_post_with_another_sessions_token_is_refused(victim, attacker):
    client, claim, token = victim
    # The attacker's own session gives them a valid token, for their session only.
    theirs = form_token(Client(), f"/s/{claim.scheme.slug}/start/")
    for path in public_paths(claim, token):
        before = snapshot()
        attacker.attempt(
            f"CSRF with another session's token: POST {path}",
            lambda path=path: client.post(path, {"csrfmiddlewaretoken": theirs, "reason": "x"}),
            lambda response, before=before: response.status_code == 403 and unchanged(before),
        )


def test_signing_a_victim_into_the_attackers_claim_needs_the_victims_token(attacker):
    """Login CSRF: a page elsewhere posting the attacker's own link for the victim."""
    own = claim_in_stage(Stage.SUBMITTED)
    token = access_link_issue(claim=own, purpose=AccessLink.Purpose.FOLLOW)
    browser = Client(enforce_csrf_checks=True)
    attacker.attempt(
        "login CSRF: POST /link/<attacker's token>/ from another site",
        lambda: browser.post(f"/link/{token}/"),
        lambda response: response.status_code == 403 and AccessLink.objects.get().used_at is None,
    )


def test_staff_forms_without_a_token_are_refused(attacker, people):
    from tests.support.staff_login import StaffClient

    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    client = StaffClient(enforce_csrf_checks=True)
    client.force_login(people.caseworker)
    for name in ["claims_claim_note", "claims_claim_assign_to_me", "claims_claim_change"]:
        path = reverse(f"admin:{name}", args=[claim.pk])
        before = snapshot()
        attacker.attempt(
            f"CSRF without a token: staff POST {path}",
            lambda path=path: client.post(path, {"text": "forged note"}),
            lambda response, before=before: response.status_code == 403 and unchanged(before),
        )
