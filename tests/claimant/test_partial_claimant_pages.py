"""The claimant's pages for accepting part of an offer and for a revised offer: their
claim only, stale forms refused, bad input answered politely and nothing changed."""

from __future__ import annotations

import re

import pytest

from claims.actions import reviews
from claims.core import Actor
from claims.domain.stages import ItemResponse, Stage
from claims.models import Review
from tests.support import partial as ps
from tests.support.hostile import sign_in_as_claimant

pytestmark = pytest.mark.django_db


def _form(offer, claim, disputed=None, *, confirm=True, **extra):
    """The answer a browser posts: accept every item but those in `disputed`."""
    disputed = disputed or {}
    data = {"version": str(claim.version)}
    for item in offer.items.all():
        data[f"item_{item.pk}"] = "dispute" if item.category in disputed else "accept"
        data[f"reason_{item.pk}"] = disputed.get(item.category, "")
    if confirm:
        data["confirm"] = "on"
    data.update(extra)
    return data


@pytest.fixture
def offered(client, people):
    claim = ps.offer_made_with_three_heads(people)
    sign_in_as_claimant(client, claim)
    return claim


def _snapshot(claim):
    claim.refresh_from_db()
    return (
        claim.stage,
        claim.version,
        claim.events.count(),
        Review.objects.count(),
        sorted(r or "" for r in claim.offers.values_list("items__response", flat=True)),
    )


def test_the_offer_page_links_to_answering_item_by_item(client, offered):
    offer = ps.current_offer(offered)

    page = client.get("/my-claim/offer/").content.decode()

    assert f'href="/my-claim/offers/{offer.pk}/answer/"' in page
    assert "Accept some items and dispute others" in page


def test_the_answer_page_labels_each_item_with_its_amount(client, offered):
    offer = ps.current_offer(offered)

    page = client.get(f"/my-claim/offers/{offer.pk}/answer/").content.decode()

    item = offer.items.get(category=ps.DISPUTED)
    assert "<legend>Bank charges: we offer £33.34</legend>" in page
    assert f'<label for="id_item_{item.pk}_1">Dispute this amount</label>' in page
    assert f'<label for="id_reason_{item.pk}">' in page
    assert "Send my answer" in page
    assert "<script" not in page.split("<main")[-1]


def test_accepting_two_items_and_disputing_one_pays_the_two_and_reviews_the_one(client, offered):
    offer = ps.current_offer(offered)

    response = client.post(
        f"/my-claim/offers/{offer.pk}/answer/",
        _form(offer, offered, {ps.DISPUTED: ps.DISPUTE_REASON}),
    )

    assert response.status_code == 302 and response.url == "/my-claim/bank-details/"
    offered.refresh_from_db()
    assert offered.stage == Stage.ACCEPTED
    review = Review.objects.get(offer=offer)
    assert review.disputed_items().get().dispute_reason == ps.DISPUTE_REASON
    page = client.get("/my-claim/bank-details/").content.decode()
    assert "You have accepted £333.34" in page
    ps.give_bank_details(offered)
    mine = client.get("/my-claim/").content.decode()
    assert "We will pay £333.34 into the account ending 5678" in mine
    assert "is reviewing the items you disputed" in mine


def test_a_dispute_without_a_reason_is_refused_politely_and_changes_nothing(client, offered):
    offer = ps.current_offer(offered)
    item = offer.items.get(category=ps.DISPUTED)
    before = _snapshot(offered)

    response = client.post(
        f"/my-claim/offers/{offer.pk}/answer/", _form(offer, offered, {ps.DISPUTED: "  "})
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert f'href="#id_reason_{item.pk}"' in page
    assert "Tell us why you dispute the amount for bank charges." in page
    assert 'aria-invalid="true"' in page
    assert _snapshot(offered) == before


def test_a_missing_choice_and_a_missing_confirmation_are_both_listed(client, offered):
    offer = ps.current_offer(offered)
    item = offer.items.get(category=ps.DISPUTED)
    data = _form(offer, offered, confirm=False)
    del data[f"item_{item.pk}"]
    before = _snapshot(offered)

    page = client.post(f"/my-claim/offers/{offer.pk}/answer/", data).content.decode()

    assert f'href="#id_item_{item.pk}_0"' in page
    assert "Choose whether you accept or dispute the amount for bank charges." in page
    assert 'href="#id_confirm"' in page
    assert _snapshot(offered) == before


def test_a_choice_that_was_not_offered_is_refused_without_echoing_it(client, offered):
    offer = ps.current_offer(offered)
    item = offer.items.get(category=ps.DISPUTED)
    data = _form(offer, offered)
    data[f"item_{item.pk}"] = "<b>pay me double</b>"
    before = _snapshot(offered)

    page = client.post(f"/my-claim/offers/{offer.pk}/answer/", data).content.decode()

    assert "Choose whether you accept or dispute the amount for bank charges." in page
    assert "pay me double" not in page
    assert _snapshot(offered) == before


def test_a_stale_form_is_refused_and_changes_nothing(client, offered):
    offer = ps.current_offer(offered)
    data = _form(offer, offered, {ps.DISPUTED: "Too low"}, version=str(offered.version - 1))
    before = _snapshot(offered)

    page = client.post(f"/my-claim/offers/{offer.pk}/answer/", data).content.decode()

    assert "Someone else changed this claim since you opened it" in page
    assert _snapshot(offered) == before


def test_another_claims_offer_is_not_found(client, offered, people):
    other = ps.offer_made_with_three_heads(people)
    other_offer = ps.current_offer(other)
    before = _snapshot(other)

    shown = client.get(f"/my-claim/offers/{other_offer.pk}/answer/")
    posted = client.post(
        f"/my-claim/offers/{other_offer.pk}/answer/",
        _form(other_offer, other, {ps.DISPUTED: "Too low"}),
    )
    revised = client.get(f"/my-claim/offers/{other_offer.pk}/revised/")

    assert shown.status_code == posted.status_code == revised.status_code == 404
    assert _snapshot(other) == before


def test_without_a_claimant_session_no_offer_can_be_answered(people):
    from django.test import Client

    claim = ps.offer_made_with_three_heads(people)
    offer = ps.current_offer(claim)

    response = Client().post(
        f"/my-claim/offers/{offer.pk}/answer/", _form(offer, claim, {ps.DISPUTED: "x"})
    )

    assert response.status_code == 302 and response.url == "/follow/"
    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_MADE


def test_disputing_every_item_declines_and_says_so(client, offered):
    offer = ps.current_offer(offered)
    everything = {item.category: "Too low" for item in offer.items.all()}

    response = client.post(
        f"/my-claim/offers/{offer.pk}/answer/", _form(offer, offered, everything, confirm=False)
    )

    assert response.url == "/my-claim/"
    offered.refresh_from_db()
    assert offered.stage == Stage.DECLINED
    assert set(offer.items.values_list("response", flat=True)) == {ItemResponse.DISPUTED}


def _revised_for(client, people):
    claim = ps.offer_made_with_three_heads(people)
    sign_in_as_claimant(client, claim)
    offer = ps.revise(ps.accept_part(claim), people, amount="66.66")
    ps.give_bank_details(claim)
    return claim, offer


def test_a_revised_offer_waits_for_the_first_payment_then_can_be_accepted(client, people):
    claim, offer = _revised_for(client, people)

    waiting = client.get(f"/my-claim/offers/{offer.pk}/revised/").content.decode()
    ps.pay(claim, people)
    mine = client.get("/my-claim/").content.decode()
    ready = client.get(f"/my-claim/offers/{offer.pk}/revised/").content.decode()
    claim.refresh_from_db()
    accepted = client.post(
        f"/my-claim/offers/{offer.pk}/revised/", {"version": claim.version, "confirm": "on"}
    )

    assert "as soon as that payment is made" in waiting
    assert "Accept the revised offer" not in waiting
    assert f'href="/my-claim/offers/{offer.pk}/revised/"' in mine
    assert "Your revised offer: £66.66" in ready and "on top of the £333.34" in ready
    assert accepted.status_code == 302
    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED


def test_a_revised_offer_without_confirmation_or_stale_is_refused(client, people):
    claim, offer = _revised_for(client, people)
    ps.pay(claim, people)
    claim.refresh_from_db()
    before = _snapshot(claim)

    unticked = client.post(f"/my-claim/offers/{offer.pk}/revised/", {"version": claim.version})
    stale = client.post(
        f"/my-claim/offers/{offer.pk}/revised/",
        {"version": claim.version - 1, "confirm": "on"},
    )

    assert 'href="#id_confirm"' in unticked.content.decode()
    assert "Someone else changed this claim" in stale.content.decode()
    assert _snapshot(claim) == before


def test_the_claimant_pages_never_show_the_full_account_number(client, people):
    claim, offer = _revised_for(client, people)
    ps.pay(claim, people)
    reviews.revised_offer_accept(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk
    )

    pages = [
        client.get(p).content.decode()
        for p in ("/my-claim/", f"/my-claim/offers/{offer.pk}/revised/")
    ]

    assert not any(re.search(r"12345678|30-?94-?57", page) for page in pages)
