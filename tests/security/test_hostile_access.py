"""Reaching another claimant's claim: by guessing ids (IDOR), by replaying or tampering
with single-use links, and by fixing a session before its owner signs in."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from claims.actions.access import access_link_issue
from claims.domain.stages import LetterKind, Stage
from claims.models import AccessLink, Evidence, HeadOfLoss, Letter, Offer
from tests.security.conftest import form_token
from tests.support.claimant import fill_draft, start_claim
from tests.support.factories import SchemeFactory, claim_in_stage
from tests.support.hostile import sign_in_as_claimant

pytestmark = pytest.mark.django_db


def add_files(claim) -> tuple[Evidence, Letter]:
    head = claim.heads_of_loss.exclude(category=HeadOfLoss.Category.DISTRESS).first()
    evidence = Evidence(
        claim=claim,
        head_of_loss=head,
        original_name="victim-statement.pdf",
        content_type="application/pdf",
        size=8,
        sha256="e" * 64,
    )
    evidence.file.save("x.pdf", ContentFile(b"%PDF-1.4 victim"), save=True)
    letter = Letter(
        claim=claim,
        kind=LetterKind.ACKNOWLEDGEMENT,
        version=1,
        size=8,
        sha256="f" * 64,
        template_version="t",
    )
    letter.file.save("x.pdf", ContentFile(b"%PDF-1.4 letter"), save=True)
    return evidence, letter


def test_a_claimant_cannot_reach_anything_of_another_claim_by_its_id(attacker, people):
    victim = claim_in_stage(Stage.OFFER_MADE, people=people)
    evidence, letter = add_files(victim)
    head = victim.heads_of_loss.first()
    offer = Offer.objects.filter(claim=victim).first()
    heads_before = list(HeadOfLoss.objects.filter(claim=victim).values())
    # The attacker has a draft of their own, so every draft page is open to them.
    client = Client()
    start_claim(client, SchemeFactory())
    fill_draft(client)
    secrets = (victim.reference, victim.full_name, victim.email, "victim-statement", "%PDF")

    def leaks_nothing(response) -> bool:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode(errors="replace")
        return response.status_code in {302, 404} and not any(s in text for s in secrets)

    probes = [
        ("get", f"/my-claim/files/{evidence.pk}/"),
        ("get", f"/my-claim/letters/{letter.pk}/"),
        ("get", f"/claim/losses/{head.pk}/change/"),
        ("post", f"/claim/losses/{head.pk}/change/"),
        ("get", f"/claim/losses/{head.pk}/remove/"),
        ("post", f"/claim/losses/{head.pk}/remove/"),
        ("post", f"/claim/files/{evidence.pk}/remove/"),
        ("get", f"/my-claim/offers/{offer.pk}/answer/"),
        ("post", f"/my-claim/offers/{offer.pk}/answer/"),
        ("get", f"/my-claim/offers/{offer.pk}/revised/"),
    ]
    for method, path in probes:
        attacker.attempt(
            f"IDOR: {method.upper()} {path} of another claim",
            lambda method=method, path=path: getattr(client, method)(path, {"amount": "1"}),
            leaks_nothing,
        )
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert list(HeadOfLoss.objects.filter(claim=victim).values()) == heads_before


def test_replayed_and_tampered_links_open_nothing(attacker, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    used = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    sign_in_as_claimant(Client(), claim)  # a newer link, used: `used` is now superseded
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    Client().post(f"/link/{token}/")

    fresh = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    variants = {
        "replayed after use": token,
        "superseded": used,
        "last character changed": fresh[:-1] + ("A" if fresh[-1] != "A" else "B"),
        "truncated": fresh[:-4],
        "extended": fresh + "AAAA",
        "upper-cased": fresh.upper() if fresh.upper() != fresh else fresh.lower(),
        "its stored hash": AccessLink.objects.get(
            token_hash=AccessLink.hash_token(fresh)
        ).token_hash,
        "url-encoded NUL": fresh + "%00",
    }
    for label, value in variants.items():
        for method in ("get", "post"):
            client = Client()
            attacker.attempt(
                f"link {label}: {method.upper()}",
                lambda client=client, value=value, method=method: getattr(client, method)(
                    f"/link/{value}/", follow=method == "get"
                ),
                lambda response, client=client: (
                    response.status_code in {410, 404}
                    and client.get("/my-claim/").status_code == 302
                ),
            )
    assert AccessLink.objects.get(token_hash=AccessLink.hash_token(fresh)).used_at is None


def test_an_expired_link_and_a_replayed_confirm_open_nothing(attacker, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    late = Client()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        attacker.attempt(
            "link used after it expired",
            lambda: late.post(f"/link/{token}/"),
            lambda response: (
                response.status_code == 410 and late.get("/my-claim/").status_code == 302
            ),
        )
    browser = Client()
    browser.get(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")
    assert browser.post("/link/open/").status_code == 302
    browser.post("/sign-out/")
    attacker.attempt(
        "confirm page posted again after sign-out (replay from the same browser)",
        lambda: browser.post("/link/open/"),
        lambda response: (
            response.status_code == 410 and browser.get("/my-claim/").status_code == 302
        ),
    )


def test_a_session_fixed_before_sign_in_gains_nothing(attacker, people):
    """The attacker plants their session cookie in the victim's browser, then waits."""
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    planted = Client()
    planted.get(f"/s/{claim.scheme.slug}/start/")
    form_token(planted, f"/s/{claim.scheme.slug}/start/")
    planted.session.save()
    fixed_key = planted.session.session_key
    victim = Client()
    victim.cookies = planted.cookies  # the same cookie jar: the planted session
    sign_in_as_claimant(victim, claim)
    attacker_browser = Client()
    attacker_browser.cookies["__Host-sessionid"] = fixed_key

    attacker.attempt(
        "session fixation: reuse the session key planted before sign-in",
        lambda: attacker_browser.get("/my-claim/"),
        lambda response: response.status_code == 302,
    )
