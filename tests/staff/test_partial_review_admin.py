"""The review of a disputed part on the staff claim page: only a senior caseworker who
did not assess the offer may decide it, each decision goes through its service, and a
refused or stale decision changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from claims.domain import roles
from claims.domain.stages import ReviewState, Stage
from claims.models import LetterRequest, Review
from tests.support import partial as ps
from tests.support.factories import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(people):
    claim = ps.offer_made_with_three_heads(people)
    return ps.accept_part(claim)


def decide(
    client,
    review,
    decision,
    *,
    reason="Both charges are on the statement.",
    amount=None,
    version=None,
):
    claim = review.claim
    claim.refresh_from_db()
    item = review.disputed_items().get()
    return client.post(
        reverse("admin:claims_claim_part_review", args=[claim.pk, review.pk]),
        {
            "decision": decision,
            "reason": reason,
            f"amount-{item.pk}": amount if amount is not None else str(item.amount_offered),
            "version": claim.version if version is None else version,
        },
    )


def _snapshot(review):
    claim = review.claim
    claim.refresh_from_db()
    review.refresh_from_db()
    return (claim.stage, claim.version, claim.events.count(), review.state, claim.offers.count())


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_independent_senior_caseworker_sees_the_dispute_and_the_decision_form(
    client, people, review
):
    client.force_login(people.senior)

    page = client.get(reverse("admin:claims_claim_change", args=[review.claim_id])).content.decode()

    assert "Review of the disputed items" in page
    assert ps.DISPUTE_REASON.replace("'", "&#x27;") in page
    assert "The claimant accepted £333.34 of this offer and disputed £33.34" in page
    assert "Uphold the decision" in page and "Make a revised offer" in page
    assert 'for="amount-' in page and "Your decision and why (sent to the claimant)" in page


@pytest.mark.parametrize(
    "role", [roles.CASEWORKER, roles.FINANCE_OFFICER, roles.SCHEME_ADMINISTRATOR]
)
def test_other_roles_see_no_decision_form_and_cannot_decide(client, review, role):
    user = staff(role)
    client.force_login(user)
    before = _snapshot(review)

    page = client.get(reverse("admin:claims_claim_change", args=[review.claim_id]))
    upheld = decide(client, review, "uphold")
    revised = decide(client, review, "revise", amount="66.66")

    assert "Uphold the decision" not in page.content.decode()
    assert upheld.status_code == revised.status_code == 403
    assert _snapshot(review) == before


def test_the_assessor_cannot_decide_the_review_of_their_own_assessment(client, people, review):
    # The caseworker who assessed the offer is promoted: still not independent.
    assessor = people.caseworker
    assessor.groups.add(*staff(roles.SENIOR_CASEWORKER).groups.all())
    client.force_login(assessor)
    before = _snapshot(review)

    page = client.get(reverse("admin:claims_claim_change", args=[review.claim_id])).content.decode()
    response = decide(client, review, "uphold")

    assert "another senior caseworker must decide the review" in page
    assert "Uphold the decision" not in page
    assert response.status_code == 302
    assert any("another senior caseworker must decide it" in m for m in _messages(response))
    assert _snapshot(review) == before


def test_upholding_through_the_page_records_it_and_queues_the_letter(client, people, review):
    client.force_login(people.senior)

    response = decide(client, review, "uphold", reason="One charge only is on the statement.")

    assert response.status_code == 302 and response.url.endswith("#part-review")
    review.refresh_from_db()
    assert review.state == ReviewState.UPHELD and review.decided_by == people.senior
    event = review.claim.events.get(action="part_review_uphold")
    assert review.claim.status_updates.get(event=event).kind == "review_outcome"
    assert LetterRequest.objects.get(event=event).kind == "review_outcome"
    page = client.get(reverse("admin:claims_claim_change", args=[review.claim_id])).content.decode()
    assert "decision upheld" in page and "Uphold the decision" not in page
    # The timeline names both changes in words.
    assert "Offer accepted in part: the rest disputed" in page
    assert "Review of the disputed part: decision upheld" in page


def test_revising_through_the_page_makes_the_revised_offer(client, people, review):
    client.force_login(people.senior)

    response = decide(client, review, "revise", amount="66.66")

    assert any("A revised offer of £66.66" in m for m in _messages(response))
    review.refresh_from_db()
    assert review.state == ReviewState.REVISED
    assert str(review.revised_offer.total) == "66.66"
    review.claim.refresh_from_db()
    assert review.claim.stage == Stage.ACCEPTED


@pytest.mark.parametrize(
    ("decision", "fields", "message"),
    [
        ("revise", {"amount": "66.68"}, "cannot be more than the £66.67 claimed"),
        ("revise", {"amount": "£1e3"}, "Enter an amount in pounds and pence"),
        ("revise", {"amount": "33.34"}, "uphold the decision instead"),
        ("uphold", {"reason": "   "}, "Give a reason for this decision."),
        ("shrug", {}, "Choose to uphold the decision or to make a revised offer."),
        ("uphold", {"version": 1}, "Someone else changed this claim"),
    ],
)
def test_a_bad_or_stale_decision_is_refused_politely_and_changes_nothing(
    client, people, review, decision, fields, message
):
    client.force_login(people.senior)
    before = _snapshot(review)

    response = decide(client, review, decision, **fields)

    assert response.status_code == 302
    assert any(message in m for m in _messages(response)), _messages(response)
    assert _snapshot(review) == before


def test_a_review_of_another_claim_is_not_found(client, people, review):
    other = ps.offer_made_with_three_heads(people)
    client.force_login(people.senior)

    response = client.post(
        reverse("admin:claims_claim_part_review", args=[other.pk, review.pk]),
        {"decision": "uphold", "reason": "x", "version": other.version},
    )

    assert response.status_code == 404
    assert Review.objects.get(pk=review.pk).state == ReviewState.OPEN
