"""Following a claim: single-use links, the session they open, and what they never reveal."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from claims.actions import offers
from claims.actions.access import access_link_issue
from claims.core import Actor
from claims.domain.stages import Stage
from claims.models import AccessLink
from tests.support.claimant import last_link_path
from tests.support.factories import People, assess_all, claim_in_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(people):
    return claim_in_stage(Stage.SUBMITTED, people=people)


def ask_for_link(client: Client, reference: str, email: str):
    return client.post("/follow/", {"reference": reference, "email": email}, follow=True)


def test_reference_and_email_get_a_link_and_the_link_opens_the_claim(client, claim):
    ask_for_link(client, claim.reference.lower().replace("-", ""), "ZOE@example.test")
    link = last_link_path(to=claim.email)

    confirm = client.get(link, follow=True)
    opened = client.post("/link/open/")  # the confirm page's button
    page = client.get("/my-claim/")

    assert "Open my claim" in confirm.content.decode()
    assert opened.url == "/my-claim/"
    assert claim.reference in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") and "no-store" in page["Cache-Control"]


def test_opening_a_link_with_get_does_not_use_it(client, claim):
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)

    for _ in range(3):  # an email scanner following the link, several times
        assert client.get(f"/link/{token}/", follow=True).status_code == 200

    assert client.post(f"/link/{token}/").url == "/my-claim/"


def test_a_used_link_is_refused_with_a_way_to_get_a_new_one(client, claim):
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    client.post(f"/link/{token}/")

    again = Client().post(f"/link/{token}/")

    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert 'href="/follow/"' in again.content.decode()
    assert again["Referrer-Policy"] == "no-referrer"


def test_a_link_expires_after_ten_minutes(client, claim):
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10, seconds=1)):
        response = client.post(f"/link/{token}/")

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert AccessLink.objects.get().used_at is None


def test_a_newer_link_cancels_older_ones(client, claim):
    older = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    newer = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)

    refused = client.post(f"/link/{older}/")
    accepted = Client().post(f"/link/{newer}/")

    assert refused.status_code == 410 and "newer link" in refused.content.decode()
    assert accepted.status_code == 302


def test_an_unknown_link_is_refused(client):
    response = client.post("/link/not-a-real-token/")

    assert response.status_code == 410
    assert "not one we recognise" in response.content.decode()


def test_only_a_hash_of_the_token_is_stored(claim):
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)

    link = AccessLink.objects.get()
    assert token not in link.token_hash
    assert link.token_hash == AccessLink.hash_token(token)


def test_known_and_unknown_references_get_byte_identical_answers(claim):
    def answer(reference: str, email: str) -> tuple[int, bytes, str]:
        response = Client().post("/follow/", {"reference": reference, "email": email})
        follow = Client().get(response.url)
        return response.status_code, follow.content, response.url

    known = answer(claim.reference, claim.email)
    wrong_email = answer(claim.reference, "someone@example.test")
    unknown = answer("RDR-ZZZZ-ZZZZ", claim.email)

    assert known == wrong_email == unknown
    assert [m.to for m in mail.outbox] == [[claim.email]]


def test_link_requests_are_rate_limited_per_reference(claim):
    codes = [
        Client(REMOTE_ADDR=f"10.0.0.{n}")
        .post("/follow/", {"reference": claim.reference, "email": claim.email})
        .status_code
        for n in range(5)
    ]

    assert codes[:3] == [302, 302, 302]
    assert codes[3:] == [429, 429]
    assert len(mail.outbox) == 3


def test_link_requests_are_rate_limited_per_address(db):
    client = Client(REMOTE_ADDR="10.9.9.9")
    codes = [
        client.post(
            "/follow/", {"reference": f"RDR-AAAA-{n:04d}", "email": "x@example.test"}
        ).status_code
        for n in range(12)
    ]

    assert codes.count(429) == 2 and codes[-1] == 429


def test_the_session_ends_after_thirty_idle_minutes(client, claim):
    client.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")
    assert client.get("/my-claim/").status_code == 200

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=29)):
        still_open = client.get("/my-claim/").status_code
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=29 + 31)):
        closed = client.get("/my-claim/", follow=True)

    assert still_open == 200
    assert closed.redirect_chain[-1][0] == "/follow/"
    assert "30 minutes without activity" in closed.content.decode()


@pytest.mark.parametrize("stale", ["/favicon.ico", "/my-claim/", "/link/open/"])
def test_a_request_still_carrying_the_old_cookie_does_not_sign_the_claimant_out(
    client, claim, settings, stale
):
    """The browser asks for the page's icon (or a second tab loads, or the button is
    pressed twice) with the cookie from before the claim was opened; that request comes
    back after opening has replaced the session. Its answer must leave the new cookie be."""
    token = access_link_issue(claim=claim, purpose="follow")
    client.get(f"/link/{token}/")  # a session holding the link, as the confirm page has
    old_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/link/open/")
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    late = Client()
    late.cookies[settings.SESSION_COOKIE_NAME] = old_key
    answer = late.post(stale) if stale == "/link/open/" else late.get(stale)

    assert new_key != old_key
    assert settings.SESSION_COOKIE_NAME not in answer.cookies  # neither deleted nor replaced
    assert client.get("/my-claim/").status_code == 200


def test_signing_out_still_replaces_the_cookie(client, claim, settings):
    client.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")
    signed_in_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    signed_out = client.post("/sign-out/")
    old = Client()
    old.cookies[settings.SESSION_COOKIE_NAME] = signed_in_key

    assert signed_out.cookies[settings.SESSION_COOKIE_NAME].value not in ("", signed_in_key)
    assert client.get("/my-claim/").url == "/follow/"
    assert old.get("/my-claim/").url == "/follow/"


def test_a_session_opens_one_claim_and_no_other(client, people):
    mine = claim_in_stage(Stage.SUBMITTED, people=people)
    theirs = claim_in_stage(Stage.INFORMATION_REQUESTED, people=People())
    client.post(f"/link/{access_link_issue(claim=mine, purpose='follow')}/")

    page = client.get("/my-claim/").content.decode()

    assert mine.reference in page and theirs.reference not in page
    assert client.get("/my-claim/respond/").url == "/my-claim/"


def test_claimant_answers_an_information_request_and_the_claim_moves_on(client, people):
    claim = claim_in_stage(Stage.INFORMATION_REQUESTED, people=people)
    client.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")

    question = client.get("/my-claim/respond/").content.decode()
    response = client.post("/my-claim/respond/", {"response": "Statement attached"})

    assert "bank statement for March 2017" in question
    assert response.url == "/my-claim/"
    claim.refresh_from_db()
    assert claim.stage == Stage.ASSESSMENT
    assert claim.messages.filter(direction="from_claimant").get().body == "Statement attached"


def test_claimant_accepts_an_offer_and_gives_bank_details_kept_encrypted(client, people):
    claim = claim_in_stage(Stage.OFFER_MADE, people=people)
    client.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")

    offer_page = client.get("/my-claim/offer/").content.decode()
    unticked = client.post("/my-claim/offer/", {})
    accepted = client.post("/my-claim/offer/", {"confirm": "on"})
    saved = client.post(
        "/my-claim/bank-details/",
        {"account_name": "Zoë O'Brien", "sort_code": "30-94-57", "account_number": "12345678"},
    )
    page = client.get("/my-claim/").content.decode()

    assert "full and final settlement" in offer_page and "£35.00" in offer_page
    assert unticked.status_code == 200 and 'href="#id_confirm"' in unticked.content.decode()
    assert accepted.url == "/my-claim/bank-details/" and saved.url == "/my-claim/"
    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    details = claim.bank_details
    assert b"12345678" not in bytes(details.account_number_encrypted)
    assert b"309457" not in bytes(details.sort_code_encrypted)
    assert "ending 5678" in page and "12345678" not in page


def test_claimant_declines_an_offer_with_reasons(client, people):
    claim = claim_in_stage(Stage.OFFER_MADE, people=people)
    client.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")

    empty = client.post("/my-claim/offer/decline/", {"reason": ""})
    declined = client.post("/my-claim/offer/decline/", {"reason": "Bank charges missing"})

    assert empty.status_code == 200 and "Tell us why" in empty.content.decode()
    assert declined.url == "/my-claim/"
    claim.refresh_from_db()
    assert claim.stage == Stage.DECLINED
    assert claim.events.get(action="offer_decline").reason == "Bank charges missing"


def test_claimant_can_withdraw_before_payment(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    client.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")

    client.post("/my-claim/withdraw/", {"reason": ""})

    claim.refresh_from_db()
    assert claim.stage == Stage.WITHDRAWN


def test_status_updates_show_their_verification_codes(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    assess_all(claim, people.caseworker)
    offers.offer_propose(claim_id=claim.pk, actor=Actor.staff(people.caseworker))
    client.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")

    page = client.get("/my-claim/").content.decode()

    codes = list(claim.status_updates.values_list("verification_code", flat=True))
    assert len(codes) == 4  # submit, triage start, triage accept, offer made
    assert all(code in page for code in codes)
    assert "We have made you an offer" in page


def test_pages_work_with_the_cache_down(client, claim, people, monkeypatch):
    """Redis (the cache in production) down: a claimant mid-claim and a caseworker go on
    working, since sessions live in the database and claims.queries.caching passes by; what
    needs a rate limit counted says "try again later"."""
    client.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")
    from django.core.cache import caches

    from tests.support.staff_login import StaffClient

    staff_client = StaffClient()
    staff_client.force_login(people.caseworker)

    def down(*args, **kwargs):
        raise ConnectionError("the cache is down")

    backend = caches["default"]
    for method in ("get", "get_many", "set", "add", "delete", "incr", "has_key"):
        monkeypatch.setattr(backend, method, down)

    assert client.get("/my-claim/").status_code == 200
    # Rate limits cannot be counted: a polite "try again later", never an error page.
    asked = Client().post("/follow/", {"reference": claim.reference, "email": claim.email})
    assert asked.status_code == 429 and "Retry-After" in asked
    assert staff_client.get("/admin/claims/claim/").status_code == 200
    assert staff_client.get(f"/admin/claims/claim/{claim.pk}/change/").status_code == 200
    assert client.post("/sign-out/").status_code == 200
