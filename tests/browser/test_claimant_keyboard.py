"""Keyboard alone makes a claim, start page to confirmation: Tab and Shift+Tab to move,
Enter, Space and the arrow keys to act, no mouse. Every control focus lands on shows
where focus is; an error summary takes focus and its links take focus to the field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from claims.domain.stages import Stage
from claims.models import Claim
from tests.browser.journey import EMAIL, group, heading
from tests.browser.support import tab_to
from tests.support.factories import RegisterEntryFactory

ANY_CONTROL = re.compile("")


@pytest.fixture
def entry(scheme: Any) -> Any:
    return RegisterEntryFactory(scheme=scheme, notice_code="7K3M-9Q2P-4HXT", postcode="CF24 3AB")


def tab_until(
    page: Page, name: str | re.Pattern[str], role: str, *, backwards: bool = False
) -> Locator:
    """Tab (or Shift+Tab) to the control, checking the focus indicator of every control
    on the way, not only the one wanted."""
    target = page.get_by_role(role, name=name, exact=True)  # type: ignore[arg-type]
    for _ in range(40):
        tab_to(page, ANY_CONTROL, max_presses=1, backwards=backwards)
        if target.evaluate("element => element === document.activeElement"):
            return target
    raise AssertionError(f"{role} {name!r} not reached by keyboard")


def press_button(page: Page, name: str) -> None:
    tab_until(page, name, "button")
    page.keyboard.press("Enter")


def next_page(page: Page, name: str) -> None:
    expect(heading(page, name)).to_be_visible()


def test_a_claim_can_be_made_with_the_keyboard_alone(page: Page, scheme: Any, entry: Any) -> None:
    keyboard = page.keyboard
    page.goto("/")
    tab_until(page, "Start your claim", "link")
    keyboard.press("Enter")

    next_page(page, "Find your notice")
    press_button(page, "Continue")
    # The error summary takes focus as the page opens; Tab reaches its first link, and
    # following it puts focus in the field.
    expect(page.get_by_role("alert")).to_be_focused()
    tab_until(page, "Enter the notice code from your letter or email.", "link")
    keyboard.press("Enter")
    expect(page.get_by_role("textbox", name=re.compile("^Notice code"))).to_be_focused()
    keyboard.type("7k3m 9q2p 4hxt")
    tab_until(page, re.compile("^Postcode"), "textbox")
    keyboard.type("CF24 3AB")
    keyboard.press("Enter")  # Enter in a text field sends the form

    next_page(page, "Your contact details")
    tab_until(page, "Full name", "textbox")
    keyboard.type("Zoë O'Brien")
    tab_until(page, "Email address", "textbox")
    keyboard.type(EMAIL)
    tab_until(page, "Address", "textbox")
    keyboard.type("Flat 2\n14 St Mary's Road\nCardiff")  # Enter makes a new line here
    tab_until(page, "Full name", "textbox", backwards=True)  # back up to check it
    expect(page.get_by_role("textbox", name="Full name")).to_have_value("Zoë O'Brien")
    press_button(page, "Save and continue")

    next_page(page, "Claiming for someone else")
    tab_until(page, "Yes", "radio")
    keyboard.press("ArrowDown")  # an arrow moves through a radio group and chooses
    expect(page.get_by_role("radio", name="No")).to_be_checked()
    press_button(page, "Save and continue")

    next_page(page, "What happened to you")
    tab_until(page, "What happened to you after the breach?", "textbox")
    keyboard.type("Two payments I did not make.")
    press_button(page, "Save and continue")

    next_page(page, "What you are claiming for")
    tab_until(page, "Add something you are claiming for", "link")
    keyboard.press("Enter")
    next_page(page, "Add something you are claiming for")
    tab_until(page, re.compile("^Unauthorised transactions"), "radio")
    keyboard.press("Space")
    press_button(page, "Continue")

    next_page(page, "Unauthorised transactions")
    date = group(page, "When did this happen?")
    tab_until(page, "Day", "textbox")
    keyboard.type("14")
    keyboard.press("Tab")
    keyboard.type("3")
    keyboard.press("Tab")
    keyboard.type("2017")
    expect(date.get_by_label("Year")).to_have_value("2017")
    tab_until(page, "How much did it cost you?", "textbox")
    keyboard.type("120.50")
    press_button(page, "Save")

    next_page(page, "What you are claiming for")
    expect(page.get_by_role("cell", name="£120.50")).to_be_visible()
    press_button(page, "Continue")

    next_page(page, "How the breach affected you")
    tab_until(page, "Yes", "radio")
    keyboard.press("Space")
    tab_until(page, "I lost sleep", "checkbox")
    keyboard.press("Space")
    expect(page.get_by_role("checkbox", name="I lost sleep")).to_be_checked()
    press_button(page, "Save and continue")

    next_page(page, "Support and how we write to you")
    press_button(page, "Save and continue")

    next_page(page, "Check your answers before sending your claim")
    press_button(page, "Send claim")  # without the statement of truth: refused
    expect(page.get_by_role("alert")).to_be_focused()
    tab_until(page, "Confirm that the information you have given is true.", "link")
    keyboard.press("Enter")
    statement = page.get_by_role("checkbox", name=re.compile("^I confirm"))
    expect(statement).to_be_focused()
    keyboard.press("Space")
    expect(statement).to_be_checked()
    press_button(page, "Send claim")

    next_page(page, "Claim sent")
    claim = Claim.objects.get()
    assert claim.stage == Stage.SUBMITTED
    expect(page.get_by_role("main")).to_contain_text(claim.reference)
