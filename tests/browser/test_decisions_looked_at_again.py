"""Asking us to look again, in real Chromium: a rejected claimant asks for a review of
the rejection from their claim page, and a claimant declines a revised offer for the
items they disputed. axe-core checks each page, the error state too; the forms work
with the keyboard alone and without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.actions import casework
from claims.core import Actor
from claims.domain import roles
from claims.domain.stages import ReviewState, Stage
from claims.models import Claim, Review
from tests.browser.conftest import NewPage
from tests.browser.journey import assert_error_state, heading, open_claim
from tests.browser.support import assert_no_axe_violations, tab_to
from tests.support import partial as ps
from tests.support.factories import People, claim_in_stage, staff


@pytest.fixture
def rejected(people: People) -> Claim:
    claim = claim_in_stage(Stage.TRIAGE, people=people)
    casework.claim_transition(
        claim_id=claim.pk,
        transition="triage_reject",
        actor=Actor.staff(staff(roles.SENIOR_CASEWORKER)),
        reason="We could not find your order.",
    )
    return claim


@pytest.fixture
def revised(settings: Any, tmp_path: Any, people: People) -> Claim:
    settings.MEDIA_ROOT = tmp_path
    claim = ps.offer_made_with_three_heads(people)
    ps.revise(ps.accept_part(claim), people)
    return claim


def arrive(page: Page, name: str | re.Pattern[str]) -> None:
    expect(heading(page, name)).to_be_visible()
    assert_no_axe_violations(page)


def test_a_rejected_claimant_asks_for_a_review(new_page: NewPage, rejected: Claim) -> None:
    page = new_page()
    open_claim(page, rejected)
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Ask us to look again at our decision").click()
    arrive(page, "Ask us to look again at our decision")
    page.get_by_role("button", name="Ask for a review").click()
    assert_error_state(
        page, "Tell us why you think our decision is wrong.", checks=[assert_no_axe_violations]
    )
    page.get_by_label("Why do you think our decision is wrong?").fill(
        "I ordered flowers on 3 March 2017: the confirmation email is attached to my claim."
    )
    page.get_by_role("button", name="Ask for a review").click()

    arrive(page, re.compile(r"^Your claim: "))
    expect(page.get_by_role("status")).to_contain_text("You have asked us to look again")
    expect(page.get_by_role("main")).to_contain_text("is reviewing your claim")
    rejected.refresh_from_db()
    assert rejected.stage == Stage.REJECTION_REVIEW


def test_the_review_can_be_asked_for_with_the_keyboard_and_no_javascript(
    new_page: NewPage, rejected: Claim
) -> None:
    page = new_page(java_script_enabled=False)
    open_claim(page, rejected)
    page.get_by_role("link", name="Ask us to look again at our decision").click()

    tab_to(page, "Why do you think our decision is wrong?", role="textbox")
    page.keyboard.type("I was a customer in March 2017.")
    tab_to(page, "Ask for a review", role="button")
    page.keyboard.press("Enter")

    expect(heading(page, re.compile(r"^Your claim: "))).to_be_visible()
    rejected.refresh_from_db()
    assert rejected.stage == Stage.REJECTION_REVIEW


def test_a_claimant_declines_a_revised_offer(new_page: NewPage, revised: Claim) -> None:
    page = new_page()
    open_claim(page, revised)
    offer = revised.offers.order_by("-version").first()
    assert offer is not None
    page.goto(f"/my-claim/offers/{offer.pk}/revised/")
    arrive(page, "Your revised offer: £66.66")
    # The first part is still to be paid, so its accept-by date has not started.
    expect(page.get_by_role("main")).to_contain_text("with the date to accept it by")

    page.get_by_role("link", name="Decline the revised offer").click()
    arrive(page, "Decline the revised offer of £66.66?")
    page.get_by_role("button", name="Decline the revised offer").click()
    assert_error_state(
        page,
        "Tell us why you are declining the revised offer.",
        checks=[assert_no_axe_violations],
    )
    page.get_by_label("Why are you declining the revised offer?").fill(
        "Both charges are on my statement: £66.67 in all."
    )
    page.get_by_role("button", name="Decline the revised offer").click()

    arrive(page, re.compile(r"^Your claim: "))
    expect(page.get_by_role("status")).to_contain_text("You have declined the revised offer")
    again = Review.objects.get(offer=offer)
    assert again.state == ReviewState.OPEN
    assert again.disputed_items().get().dispute_reason.startswith("Both charges")
