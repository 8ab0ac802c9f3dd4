"""Every error a claimant can meet, in real Chromium: each one says what went wrong in a
summary announced as an alert, links each message to its field, has no axe violations
and fits 320 px; so do the pages that refuse a link or too many tries."""

from __future__ import annotations

import re
import time
import zlib
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from claims.actions import submission
from claims.actions.access import access_link_issue
from claims.domain.stages import Stage
from claims.models import AccessLink
from tests.browser.conftest import DESKTOP, NARROW
from tests.browser.journey import PageCheck, assert_error_state, heading, open_claim
from tests.browser.support import assert_no_axe_violations, assert_no_horizontal_scroll
from tests.support.factories import (
    CLAIMANT,
    People,
    RegisterEntryFactory,
    SchemeFactory,
    claim_in_stage,
)


def fits_320_px(page: Page) -> None:
    """The same page on a small phone: narrowed, it must not scroll sideways."""
    page.set_viewport_size(NARROW)
    try:
        assert_no_horizontal_scroll(page)
    finally:
        page.set_viewport_size(DESKTOP)


CHECKS: list[PageCheck] = [assert_no_axe_violations, fits_320_px]
FOLLOW_WINDOW = 15 * 60  # claims.claimant.views.public.follow: 3 links a reference in 15 minutes
NOT_A_PDF: FilePayload = {
    "name": "statement.pdf",
    "mimeType": "application/pdf",
    "buffer": b"<html><script>alert(1)</script></html>",
}


@pytest.fixture
def scheme(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return SchemeFactory()


def reference_counted_in_one_window() -> str:
    """A reference whose tries all count together. django-ratelimit counts in windows
    (15 minutes here) that end at a moment set by the key's crc32; a test running across
    that moment would start again from zero and never see the limit."""
    now = int(time.time())
    for last in "ABCDEFGHJK":
        reference = f"RDR-AAAA-BBB{last}"
        window_ends = zlib.crc32(reference.encode()) % FOLLOW_WINDOW
        if (window_ends - now) % FOLLOW_WINDOW > 120:
            return reference
    raise AssertionError("every candidate's window ends within two minutes")


def arrive(page: Page, name: str | re.Pattern[str]) -> None:
    expect(heading(page, name)).to_be_visible()
    for check in CHECKS:
        check(page)


def press(page: Page, name: str, role: str = "button") -> None:
    page.get_by_role(role, name=name, exact=True).click()  # type: ignore[arg-type]


def test_finding_a_notice_shows_each_error_accessibly(page: Page, scheme: Any) -> None:
    entry: Any = RegisterEntryFactory(
        scheme=scheme, notice_code="7K3M-9Q2P-4HXT", postcode="CF24 3AB"
    )
    page.goto("/")
    press(page, "Start your claim", role="link")
    arrive(page, "Find your notice")

    press(page, "Continue")
    assert_error_state(
        page,
        "Enter the notice code from your letter or email.",
        "Enter your postcode.",
        checks=CHECKS,
    )

    page.get_by_label("Notice code").fill("7K3M")
    page.get_by_label("Postcode").fill("CF24 3AB")
    press(page, "Continue")
    assert_error_state(page, "Enter the notice code as it is printed", checks=CHECKS)

    page.get_by_label("Notice code").fill("7K3M-9Q2P-4HXZ")
    press(page, "Continue")
    assert_error_state(page, "We could not match that notice code and postcode", checks=CHECKS)
    expect(page.get_by_label("Notice code")).to_have_value("7K3M-9Q2P-4HXZ")  # nothing lost

    press(page, "Claim without a notice", role="link")
    arrive(page, "Claim without a notice")

    # A notice someone has already claimed with: the link goes to that claim's email.
    submission.claim_start(scheme=scheme, register_entry_id=entry.pk, **CLAIMANT)
    press(page, "Go back and enter a notice code", role="link")
    page.get_by_label("Notice code").fill(entry.notice_code)
    page.get_by_label("Postcode").fill("cf243ab")
    press(page, "Continue")
    arrive(page, "A claim has already been made with this notice")


def test_home_page_listing_several_schemes_has_no_accessibility_violations(
    page: Page, scheme: Any
) -> None:
    SchemeFactory(name="Another breach compensation scheme")
    page.goto("/")

    arrive(page, "Claim compensation for a data breach")
    expect(page.get_by_role("link", name="Another breach compensation scheme")).to_be_visible()


def test_following_a_claim_shows_each_error_and_refusal_accessibly(
    page: Page, scheme: Any, people: People
) -> None:
    page.goto("/follow/")
    arrive(page, "Follow your claim")

    press(page, "Email me a link")
    assert_error_state(
        page, "Enter your claim reference.", "Enter your email address.", checks=CHECKS
    )

    page.get_by_label("Claim reference").fill("RDR-12")
    page.get_by_label("Email address").fill("zoe@")
    press(page, "Email me a link")
    assert_error_state(
        page,
        "Enter the reference as it is printed",
        "Enter an email address in the right format",
        checks=CHECKS,
    )

    reference = reference_counted_in_one_window()
    for _ in range(3):  # the most links one reference may ask for in 15 minutes
        page.get_by_label("Claim reference").fill(reference)
        page.get_by_label("Email address").fill("zoe@example.com")
        press(page, "Email me a link")
        arrive(page, "Check your email")
        press(page, "try again", role="link")
    page.get_by_label("Claim reference").fill(reference)
    page.get_by_label("Email address").fill("zoe@example.com")
    press(page, "Email me a link")
    arrive(page, "Too many attempts")

    page.goto("/link/not-a-real-token/")
    arrive(page, "This link cannot be used")
    expect(page.get_by_text("not one we recognise")).to_be_visible()

    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    page.goto(f"/link/{token}/")
    arrive(page, "Open your claim")
    press(page, "Open my claim")
    arrive(page, "Your claim: submitted")
    press(page, "Sign out")
    arrive(page, "You have signed out")
    page.goto(f"/link/{token}/")
    arrive(page, "This link cannot be used")
    expect(page.get_by_text("already been used")).to_be_visible()
    press(page, "Get a new link", role="link")
    arrive(page, "Follow your claim")


def test_every_page_of_the_claim_form_shows_its_errors_accessibly(page: Page, scheme: Any) -> None:
    page.goto(f"/s/{scheme.slug}/start/")
    press(page, "Claim without a notice", role="link")
    press(page, "Continue without a notice")

    arrive(page, "Your contact details")
    press(page, "Save and continue")
    assert_error_state(
        page,
        "Enter your full name.",
        "Enter your email address.",
        "Enter your address.",
        "Enter your postcode.",
        checks=CHECKS,
    )
    page.get_by_label("Full name").fill("Nguyễn Văn An")
    page.get_by_label("Email address").fill("an@")
    page.get_by_label(re.compile(r"^Address")).fill("27 Ashby-de-la-Zouch Way\nLeicester")
    page.get_by_label("Postcode").fill("LE1 6XY")
    press(page, "Save and continue")
    assert_error_state(page, "Enter an email address in the right format", checks=CHECKS)
    expect(page.get_by_label("Full name")).to_have_value("Nguyễn Văn An")
    page.get_by_label("Email address").fill("an@example.org")
    press(page, "Save and continue")

    arrive(page, "Claiming for someone else")
    press(page, "Save and continue")
    assert_error_state(page, "Select yes if you are claiming for someone else.", checks=CHECKS)
    page.get_by_label("Yes").check()
    press(page, "Save and continue")
    assert_error_state(
        page, "Enter your name.", "Tell us why you are claiming for them.", checks=CHECKS
    )
    page.get_by_label("No").check()
    press(page, "Save and continue")

    arrive(page, "What happened to you")
    press(page, "Save and continue")
    assert_error_state(page, "Tell us what happened to you.", checks=CHECKS)

    # The check page before everything is answered lists what is still to do.
    page.goto("/claim/check/")
    arrive(page, "Check your answers before sending your claim")
    expect(page.get_by_text("You still need to answer")).to_be_visible()
    press(page, "What happened to you", role="link")
    page.get_by_label("What happened to you after the breach?").fill("Payments I did not make.")
    press(page, "Save and continue")

    arrive(page, "What you are claiming for")
    press(page, "Add something you are claiming for", role="link")
    arrive(page, "Add something you are claiming for")
    press(page, "Continue")
    assert_error_state(page, "Select what you are claiming for.", checks=CHECKS)
    page.get_by_label("Bank charges").check()
    press(page, "Continue")

    arrive(page, "Bank charges")
    press(page, "Save")
    assert_error_state(
        page, "Enter the date this happened.", "Enter how much it cost you.", checks=CHECKS
    )
    date = page.get_by_role("group", name="When did this happen?")
    amount = page.get_by_label("How much did it cost you?")
    date.get_by_label("Day").fill("31")
    date.get_by_label("Month").fill("2")
    date.get_by_label("Year").fill("2017")
    amount.fill("-5")
    press(page, "Save")
    assert_error_state(page, "Enter a real date", "Amounts cannot be negative", checks=CHECKS)
    date.get_by_label("Day").fill("1")
    date.get_by_label("Month").fill("1")
    date.get_by_label("Year").fill("2016")
    amount.fill("25")
    press(page, "Save")
    assert_error_state(page, "The date must be on or after the breach began", checks=CHECKS)
    date.get_by_label("Month").fill("3")
    date.get_by_label("Year").fill("2017")
    page.get_by_label("Upload evidence (optional)").set_input_files([NOT_A_PDF])
    press(page, "Save")
    assert_error_state(page, "statement.pdf is not a PDF, JPEG or PNG file.", checks=CHECKS)
    press(page, "Save")

    arrive(page, "What you are claiming for")
    press(page, "Remove Bank charges", role="link")
    arrive(page, "Remove bank charges of £25.00?")
    press(page, "No, go back", role="link")

    press(page, "Add another", role="link")
    page.get_by_label("Time spent").check()
    press(page, "Continue")
    arrive(page, "Time spent")
    press(page, "Save")
    assert_error_state(
        page,
        "Enter the hours you spent, like 2.5.",
        "Tell us what you spent the time on.",
        checks=CHECKS,
    )
    page.get_by_label("How many hours did you spend?").fill("lots")
    page.get_by_label("What did you spend the time on?").fill("Calls")
    press(page, "Save")
    assert_error_state(page, "hours", checks=CHECKS)
    page.get_by_label("How many hours did you spend?").fill("2")
    press(page, "Save")
    arrive(page, "What you are claiming for")
    press(page, "Continue")

    arrive(page, "How the breach affected you")
    press(page, "Save and continue")
    assert_error_state(
        page, "Select yes if the breach caused you distress or worry.", checks=CHECKS
    )
    page.get_by_label("Yes").check()
    press(page, "Save and continue")
    assert_error_state(
        page,
        "Tell us how the breach affected you, or select at least one effect.",
        checks=CHECKS,
    )
    page.get_by_label("No").check()
    press(page, "Save and continue")

    arrive(page, "Support and how we write to you")
    page.get_by_role("radio", name="Another language").check()
    press(page, "Save and continue")
    assert_error_state(page, "Enter the language you would like us to use.", checks=CHECKS)
    page.get_by_label("Which language?").fill("Cymraeg")
    press(page, "Save and continue")

    arrive(page, "Check your answers before sending your claim")
    press(page, "Send claim")
    assert_error_state(page, "Confirm that the information you have given is true.", checks=CHECKS)

    press(page, "Save and come back later")
    arrive(page, "Your claim is saved")
    press(page, "Sign out")
    arrive(page, "You have signed out")


def test_pages_after_sending_show_their_errors_accessibly(
    page: Page, scheme: Any, people: People
) -> None:
    asked = claim_in_stage(Stage.INFORMATION_REQUESTED, scheme=scheme, people=people)
    open_claim(page, asked)
    arrive(page, "Your claim: information requested")

    press(page, "Answer our question", role="link")
    arrive(page, "Answer our question")
    press(page, "Send answer")
    assert_error_state(page, "Write your answer to our question.", checks=CHECKS)
    page.get_by_label("Your answer").fill("Attached.")
    page.get_by_label("Upload files (optional)").set_input_files([NOT_A_PDF])
    press(page, "Send answer")
    assert_error_state(page, "statement.pdf is not a PDF, JPEG or PNG file.", checks=CHECKS)
    expect(page.get_by_label("Your answer")).to_have_value("Attached.")

    press(page, "Back to your claim", role="link")
    press(page, "Withdraw your claim", role="link")
    arrive(page, "Withdraw your claim?")

    offered = claim_in_stage(Stage.OFFER_MADE, scheme=scheme, people=people)
    open_claim(page, offered)
    press(page, "See your offer", role="link")
    arrive(page, re.compile(r"^Our offer: £"))
    press(page, "Accept the offer")
    assert_error_state(
        page,
        "Confirm that you accept the offer in full and final settlement.",
        checks=CHECKS,
    )

    press(page, "Decline the offer and ask for a review", role="link")
    arrive(page, "Decline the offer")
    press(page, "Decline and ask for a review")
    assert_error_state(page, "Tell us why you are declining the offer.", checks=CHECKS)
    press(page, "Go back to the offer", role="link")

    page.get_by_label("I accept this offer in full and final settlement").check()
    press(page, "Accept the offer")
    arrive(page, "Where should we pay you?")
    press(page, "Save bank details")
    assert_error_state(
        page,
        "Enter the name on the account.",
        "Enter the sort code.",
        "Enter the account number.",
        checks=CHECKS,
    )
    page.get_by_label("Name on the account").fill("Zoë O'Brien")
    page.get_by_label("Sort code").fill("30-94")
    page.get_by_label("Account number").fill("12345678")
    press(page, "Save bank details")
    assert_error_state(page, "Enter a sort code of 6 digits", checks=CHECKS)
    expect(page.get_by_label("Account number")).to_have_value("")  # never echoed back
