"""Partial acceptance in real Chromium, as a person takes it: a claimant accepts two of
three heads of loss and disputes one, gives bank details; the finance officer pays; the
claimant sees "paid" and downloads the payment letter, for the accepted part only.
axe-core checks every page the claimant sees, the error state too."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from claims.delivery import letters
from claims.domain.stages import ReviewState, Stage
from claims.models import Claim, LetterRequest, Review
from tests.browser.conftest import NewPage
from tests.browser.journey import assert_error_state, group, heading, open_claim
from tests.browser.support import assert_no_axe_violations, tab_to
from tests.support import partial as ps
from tests.support.factories import People, SchemeFactory
from tests.support.staff_login import enrol, totp_code

ACCOUNT_NUMBER = "12345678"
STAFF_PASSWORD = "a long passphrase for finance"


@pytest.fixture
def claim(settings: Any, tmp_path: Any, people: People) -> Claim:
    settings.MEDIA_ROOT = tmp_path  # the letters
    return ps.offer_made_with_three_heads(people, SchemeFactory())


def arrive(page: Page, name: str | re.Pattern[str]) -> None:
    expect(heading(page, name)).to_be_visible()
    assert_no_axe_violations(page)


def accept_two_dispute_one(page: Page, *, check_errors: bool) -> None:
    page.get_by_role("link", name="See your offer").click()
    arrive(page, "Our offer: £366.68")
    page.get_by_role("link", name="Accept some items and dispute others").click()
    arrive(page, "Accept some items and dispute others")
    group(page, "Unauthorised transactions: we offer £333.33").get_by_label(
        "Accept £333.33 for this"
    ).check()
    group(page, "Bank charges: we offer £33.34").get_by_label("Dispute this amount").check()
    group(page, "Card replacement or cancellation costs: we offer £0.01").get_by_label(
        "Accept £0.01 for this"
    ).check()
    page.get_by_label("I accept the items I have chosen to accept").check()
    reason = page.get_by_label("If you dispute the amount for bank charges, tell us why")
    if check_errors:
        # A dispute needs a reason: the page says so, the GOV.UK way, and keeps the answers.
        page.get_by_role("button", name="Send my answer").click()
        assert_error_state(
            page,
            "Tell us why you dispute the amount for bank charges.",
            checks=[assert_no_axe_violations],
        )
        expect(
            group(page, "Bank charges: we offer £33.34").get_by_label("Dispute this amount")
        ).to_be_checked()
    reason.fill(ps.DISPUTE_REASON)
    page.get_by_role("button", name="Send my answer").click()


def give_bank_details(page: Page) -> None:
    arrive(page, "Where should we pay you?")
    expect(page.get_by_role("status")).to_contain_text("You have accepted £333.34")
    page.get_by_label("Name on the account").fill("Siân O'Connor-Ng")
    page.get_by_label("Sort code").fill("30-94-57")
    page.get_by_label("Account number").fill(ACCOUNT_NUMBER)
    page.get_by_role("button", name="Save bank details").click()
    arrive(page, "Your claim: accepted")
    main = page.get_by_role("main")
    expect(main).to_contain_text("We will pay £333.34 into the account ending 5678")
    expect(main).to_contain_text("is reviewing the items you disputed")
    assert ACCOUNT_NUMBER not in page.content()


def staff_sign_in(page: Page, user: Any) -> None:
    """Sign in to the staff site as a person does: password, then an authenticator code."""
    user.set_password(STAFF_PASSWORD)
    user.save()
    secret = enrol(user)
    page.goto(reverse("account_login"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Code")).to_be_visible()
    # A code is good for its 30-second window only: never type one as the window ends.
    while time.time() % 30 > 25:
        time.sleep(0.2)
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name=re.compile("^Sign in$", re.IGNORECASE)).click()
    expect(page.get_by_text(f"Successfully signed in as {user.username}.")).to_be_visible()


def finance_pays(page: Page, claim: Claim) -> None:
    """The finance officer, in the staff site, builds a payment batch, downloads the
    payment file for the bank and marks the payment paid; then the letters worker makes
    the letter, as it would on its queue."""
    page.goto(reverse("admin:claims_paymentbatch_build"))
    page.get_by_role("button", name="Build a batch of 1 payment").click()
    main = page.locator("#content-main")
    expect(main).to_contain_text("1, £333.34")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the payment file (CSV) for the bank").click()
    payment_file = download.value.path().read_text()
    assert "333.34" in payment_file and "366.68" not in payment_file
    page.get_by_role("button", name=f"Mark {claim.reference} paid").click()
    expect(page.get_by_text(f"{claim.reference} is marked paid")).to_be_visible()
    for request in LetterRequest.objects.filter(claim=claim, state="pending").order_by("id"):
        assert letters.letter_generate(request.pk) == letters.Outcome.MADE


def test_a_claimant_accepts_two_items_disputes_one_and_is_paid_the_two(
    new_page: NewPage, claim: Claim, people: People
) -> None:
    page = new_page()
    open_claim(page, claim)
    arrive(page, "Your claim: offer made")

    accept_two_dispute_one(page, check_errors=True)
    give_bank_details(page)

    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    review = Review.objects.get(claim=claim)
    assert review.state == ReviewState.OPEN
    assert review.disputed_items().get().dispute_reason == ps.DISPUTE_REASON

    staff_page = new_page()
    staff_sign_in(staff_page, people.finance)
    finance_pays(staff_page, claim)
    claim.refresh_from_db()
    assert claim.stage == Stage.PAID
    assert claim.payments.get().amount == ps.ACCEPTED_PART

    page.reload()
    arrive(page, "Your claim: paid")
    expect(page.get_by_role("main")).to_contain_text("We have paid your compensation.")
    link = page.get_by_role("link", name=re.compile(r"^Download the payment confirmation letter"))
    with page.expect_download() as download:
        link.click()
    pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    assert "We paid you £333.34" in text
    assert "into the account ending 5678" in text
    assert "£366.68" not in text and ACCOUNT_NUMBER not in text


def test_the_partial_acceptance_works_with_javascript_off(new_page: NewPage, claim: Claim) -> None:
    page = new_page(java_script_enabled=False)
    open_claim(page, claim)

    accept_two_dispute_one(page, check_errors=False)
    give_bank_details(page)

    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED


def test_the_items_can_be_answered_with_the_keyboard_alone(new_page: NewPage, claim: Claim) -> None:
    page = new_page()
    keyboard = page.keyboard
    open_claim(page, claim)
    offer = claim.offers.get()
    page.goto(f"/my-claim/offers/{offer.pk}/answer/")
    expect(heading(page, "Accept some items and dispute others")).to_be_visible()

    # Each item: Tab to its first choice, Space to choose it, or an arrow key for the next.
    tab_to(page, "Accept £333.33 for this", role="radio")
    keyboard.press("Space")
    tab_to(page, "Accept £33.34 for this", role="radio")
    keyboard.press("ArrowDown")
    expect(page.get_by_label("Dispute this amount").nth(1)).to_be_checked()
    tab_to(page, "If you dispute the amount for bank charges, tell us why", role="textbox")
    keyboard.type("Charged twice.")
    tab_to(page, "Accept £0.01 for this", role="radio")
    keyboard.press("Space")
    tab_to(page, re.compile("^I accept the items I have chosen"), role="checkbox")
    keyboard.press("Space")
    tab_to(page, "Send my answer", role="button")
    keyboard.press("Enter")

    expect(heading(page, "Where should we pay you?")).to_be_visible()
    review = Review.objects.get(claim=claim)
    assert review.disputed_items().get().dispute_reason == "Charged twice."
