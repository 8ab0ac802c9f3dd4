"""The letters of partial acceptance, read back from the PDF: each review outcome, and
the payment letter, which pays the accepted items only."""

from __future__ import annotations

import pytest

from claims.core import Actor
from claims.domain.letters import AUTOMATIC_LETTERS
from claims.domain.stages import LetterKind
from tests.support import partial as ps
from tests.support.letters import make_pending_letters, money, pdf_text, render

pytestmark = pytest.mark.django_db


def test_upheld_review_of_a_disputed_part_names_the_items_and_keeps_the_accepted_part(people):
    from claims.actions import reviews

    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)
    reviews.part_review_uphold(
        review_id=review.pk,
        actor=Actor.staff(people.senior),
        reason="Only one charge of £33.34 is on the statement.",
    )

    text = pdf_text(render(claim, LetterKind.REVIEW_OUTCOME).pdf)

    assert "We have not changed our decision" in text
    assert "Bank charges £33.34" in text
    assert "The bank charged me twice" in text
    assert "Only one charge of £33.34 is on the statement." in text
    assert f"The {money(ps.ACCEPTED_PART)} you accepted is not affected" in text
    assert "Information Commissioner" in text


def test_revised_review_sets_out_the_new_offer_for_the_disputed_items_only(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.revise(ps.accept_part(claim), people, amount="66.66")

    text = pdf_text(render(claim, LetterKind.REVIEW_OUTCOME).pdf)

    assert "Our revised offer for the items you disputed £66.66" in text
    assert "This replaces the £33.34 we offered for them" in text
    assert f"on top of the {money(ps.ACCEPTED_PART)} you accepted" in text
    # The first part is not paid yet, so the accept-by date has not started.
    assert offer.accept_by is None
    assert "once we have paid the part you accepted" in text
    assert "Unauthorised transactions" not in text.split("Your revised offer")[-1]
    assert "Accept the revised offer" in text


def test_payment_letter_for_a_partly_accepted_offer_pays_the_accepted_items(people):
    claim = ps.offer_made_with_three_heads(people)
    ps.accept_part(claim)
    ps.give_bank_details(claim)
    ps.pay(claim, people)

    made = [
        letter for letter in make_pending_letters(claim) if letter.kind == "payment_confirmation"
    ]

    assert len(made) == 1
    text = pdf_text(made[0].file.read())
    assert "We paid you £333.34" in text
    assert money(ps.OFFER_TOTAL) not in text
    assert "into the account ending 5678" in text


def test_payment_letter_for_the_revised_part_pays_only_the_extra(people):
    from claims.actions import reviews

    claim = ps.offer_made_with_three_heads(people)
    offer = ps.revise(ps.accept_part(claim), people, amount="66.66")
    ps.give_bank_details(claim)
    ps.pay(claim, people)
    reviews.revised_offer_accept(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk
    )
    ps.pay(claim, people)

    text = pdf_text(render(claim, LetterKind.PAYMENT_CONFIRMATION).pdf)

    assert "We paid you £66.66" in text
    assert AUTOMATIC_LETTERS["payment_confirm"] == LetterKind.PAYMENT_CONFIRMATION
