"""The scheme's fund: what is committed, paid and left, and offers refused beyond it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from claims.actions import casework, offers
from claims.core import Actor, ClaimError
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import HeadOfLoss, Offer, Scheme
from claims.queries import funds
from claims.queries.funds import fund_summary
from tests.support.factories import SMALL_LOSS, assess_all, claim_in_stage, staff


def _set_fund(scheme: Scheme, amount: str) -> None:
    Scheme.objects.filter(pk=scheme.pk).update(fund_amount=Decimal(amount))
    scheme.refresh_from_db()


@pytest.mark.django_db
def test_fund_figures_separate_offered_committed_paid_and_remaining(scheme, people):
    claim_in_stage(Stage.OFFER_MADE, scheme=scheme, people=people)
    claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    claim_in_stage(Stage.PAID, scheme=scheme, people=people)
    claim_in_stage(Stage.OFFER_PENDING_APPROVAL, scheme=scheme, people=people)

    fund = fund_summary(scheme)

    assert fund.offered == SMALL_LOSS
    assert fund.committed == SMALL_LOSS
    assert fund.paid == SMALL_LOSS
    assert fund.awaiting_approval == Decimal("1800.00")
    assert fund.remaining == scheme.fund_amount - 3 * SMALL_LOSS
    assert fund.remaining_after_approvals == fund.remaining - Decimal("1800.00")


@pytest.mark.django_db
def test_an_offer_beyond_the_remaining_fund_is_refused_and_changes_nothing(scheme, people):
    claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    _set_fund(scheme, "50.00")  # 35.00 committed: 15.00 left
    claim = claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people)
    assess_all(claim, people.caseworker)
    events, offer_count = claim.events.count(), Offer.objects.count()

    with pytest.raises(ClaimError) as refused:
        offers.offer_propose(claim_id=claim.pk, actor=Actor.staff(people.caseworker))

    claim.refresh_from_db()
    assert refused.value.code == "over_fund"
    assert "£35.00" in refused.value.message and "only £15.00" in refused.value.message
    assert claim.stage == Stage.ASSESSMENT
    assert claim.events.count() == events and Offer.objects.count() == offer_count
    assert not claim.status_updates.filter(kind="offer_made").exists()


@pytest.mark.django_db
def test_an_offer_that_uses_the_fund_to_the_penny_is_made(scheme, people):
    claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    _set_fund(scheme, "70.00")
    claim = claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people)
    assess_all(claim, people.caseworker)

    offers.offer_propose(claim_id=claim.pk, actor=Actor.staff(people.caseworker))

    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_MADE
    assert fund_summary(scheme).remaining == Decimal("0.00")


@pytest.mark.django_db
def test_approval_is_refused_when_the_fund_ran_out_while_the_offer_waited(scheme, people):
    claim = claim_in_stage(Stage.OFFER_PENDING_APPROVAL, scheme=scheme, people=people)
    # Offers awaiting approval do not hold the fund: this one fits when proposed ...
    assert fund_summary(scheme, exclude_claim_id=claim.pk).remaining == scheme.fund_amount
    other = claim_in_stage(Stage.OFFER_MADE, scheme=scheme, people=people)
    _set_fund(scheme, "1810.00")  # ... but not after another offer was made
    approver = staff(roles.SENIOR_CASEWORKER)

    with pytest.raises(ClaimError) as refused:
        offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(approver))

    claim.refresh_from_db()
    assert refused.value.code == "over_fund"
    assert claim.stage == Stage.OFFER_PENDING_APPROVAL
    assert other.offers.get().total == SMALL_LOSS


@pytest.mark.django_db
def test_a_revised_offer_counts_against_the_fund_in_place_of_the_one_under_review(scheme, people):
    claim = claim_in_stage(Stage.REVIEW, scheme=scheme, people=people)
    _set_fund(scheme, "40.00")  # the offer under review (35.00) fits; 45.00 would not
    reviewer = staff(roles.SENIOR_CASEWORKER)
    head = claim.heads_of_loss.get()
    HeadOfLoss.objects.filter(pk=head.pk).update(amount_claimed=Decimal("45.00"))
    casework.head_of_loss_assess(
        head_id=head.pk, actor=Actor.staff(reviewer), amount_allowed="45.00", reason="Receipt"
    )
    second = staff(roles.SENIOR_CASEWORKER)

    with pytest.raises(ClaimError) as refused:
        offers.review_revise(claim_id=claim.pk, actor=Actor.staff(second), reason="Receipt")
    assert refused.value.code == "over_fund"

    casework.head_of_loss_assess(
        head_id=head.pk, actor=Actor.staff(reviewer), amount_allowed="40.00", reason="Receipt"
    )
    offer = offers.review_revise(claim_id=claim.pk, actor=Actor.staff(second), reason="Receipt")
    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_MADE and offer.total == Decimal("40.00")


@pytest.mark.django_db
def test_the_claim_page_shows_the_over_fund_refusal(client, scheme, people):
    _set_fund(scheme, "10.00")
    claim = claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people)
    assess_all(claim, people.caseworker)
    claim.refresh_from_db()
    client.force_login(people.caseworker)

    response = client.post(
        reverse("admin:claims_claim_transition", args=[claim.pk]),
        {"transition": "offer_propose", "version": claim.version},
        follow=True,
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.ASSESSMENT
    assert "only £10.00 of the scheme&#x27;s fund is left" in response.content.decode()


@pytest.mark.django_db
def test_the_dashboard_shows_committed_paid_and_remaining(client, scheme, people):
    claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    page = client.get(reverse("admin:claims_claim_dashboard"), {"scheme": scheme.pk})

    text = page.content.decode()
    assert "Committed: accepted, not yet paid</th><td>£35.00" in text
    assert "Remaining for new offers</th><td><strong>£4,999,965.00" in text


@pytest.mark.django_db
def test_a_revised_offer_after_a_paid_part_counts_the_paid_part_once(people):
    from tests.support import partial as ps

    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)
    ps.give_bank_details(claim)
    ps.pay(claim, people)
    assert funds.paid_total(claim.scheme) == ps.ACCEPTED_PART
    # Just enough for the part paid and the revised amount for the disputed part.
    _set_fund(claim.scheme, str(ps.ACCEPTED_PART + Decimal("40.00")))

    with pytest.raises(ClaimError) as refused:
        ps.revise(review, people, "40.01")
    revised = ps.revise(review, people, "40.00")

    assert refused.value.code == "over_fund"
    assert revised.total == Decimal("40.00")
    assert fund_summary(claim.scheme).remaining == Decimal("0.00")
