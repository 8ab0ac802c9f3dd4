"""The whole claimant journey in real Chromium, as a person takes it: start page to
confirmation, then following the claim, answering a question and accepting an offer;
with JavaScript on (axe-core checks every page on the way), off, and at 320 px."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from claims.domain.stages import Stage
from claims.models import BankDetails, Claim
from tests.browser.conftest import NARROW, NewPage
from tests.browser.journey import (
    ACCOUNT_NUMBER,
    Journey,
    PageCheck,
    staff_make_offer,
    staff_request_information,
)
from tests.browser.support import assert_no_axe_violations, assert_no_horizontal_scroll
from tests.support.factories import People, RegisterEntryFactory, SchemeFactory


@pytest.fixture
def scheme(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path  # uploaded evidence
    return SchemeFactory()


@pytest.fixture
def entry(scheme: Any) -> Any:
    return RegisterEntryFactory(scheme=scheme, notice_code="7K3M-9Q2P-4HXT", postcode="CF24 3AB")


def test_a_claimant_makes_a_claim_follows_it_answers_a_question_and_accepts_the_offer(
    page: Page, new_page: NewPage, scheme: Any, entry: Any, people: People
) -> None:
    reference = Journey(page, each_page=[assert_no_axe_violations]).make_claim(scheme.name, entry)

    claim = Claim.objects.get()
    assert (claim.reference, claim.stage) == (reference, Stage.SUBMITTED)
    assert claim.register_entry == entry and claim.preferred_format == "large_print"
    assert claim.what_happened.endswith("and a new card.")
    assert sorted(claim.heads_of_loss.values_list("category", flat=True)) == [
        "distress",
        "time_spent",
        "unauthorised_transactions",
    ]
    assert claim.evidence.get().original_name == "statement.png"

    # Later, on another device: the claimant follows the claim with a link from an email.
    follow_answer_and_accept(
        Journey(new_page(), each_page=[assert_no_axe_violations]), reference, people
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    assert claim.evidence.filter(message__isnull=False).get().original_name == "march-statement.pdf"
    assert BankDetails.objects.get(claim=claim).account_number_last4 == ACCOUNT_NUMBER[-4:]


def test_the_whole_journey_works_with_javascript_off(
    new_page: NewPage, scheme: Any, entry: Any, people: People
) -> None:
    # axe checks these pages with JavaScript on; only the time-spent sum differs without it
    # (sent back with the page), and the journey checks that page where it shows.
    journey = Journey(new_page(java_script_enabled=False), javascript=False)

    reference = journey.make_claim(scheme.name, entry)

    assert Claim.objects.get(reference=reference).stage == Stage.SUBMITTED
    later = Journey(new_page(java_script_enabled=False), javascript=False)
    follow_answer_and_accept(later, reference, people)
    assert Claim.objects.get().stage == Stage.ACCEPTED


def test_every_page_of_the_journey_fits_320_px_without_scrolling_sideways(
    new_page: NewPage, scheme: Any, entry: Any, people: People
) -> None:
    checks: list[PageCheck] = [assert_no_horizontal_scroll, assert_no_axe_violations]

    reference = Journey(new_page(viewport=NARROW), each_page=checks).make_claim(scheme.name, entry)

    follow_answer_and_accept(
        Journey(new_page(viewport=NARROW), each_page=checks), reference, people
    )
    assert Claim.objects.get().stage == Stage.ACCEPTED


def follow_answer_and_accept(journey: Journey, reference: str, people: People) -> None:
    """After the claim is sent: follow it, answer a question, accept the offer."""
    journey.follow(reference)
    journey.see_claim("submitted")

    staff_request_information(reference, people)
    journey.page.reload()
    journey.answer_information_request()

    staff_make_offer(reference, people)
    journey.page.reload()
    journey.accept_offer_and_give_bank_details()
