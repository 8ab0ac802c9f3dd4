"""The public home page in real Chromium: the first thing a claimant sees."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.support import assert_no_axe_violations, assert_no_horizontal_scroll, tab_to


def test_home_page_names_the_open_scheme_in_its_heading(page: Page, scheme: Any) -> None:
    page.goto("/")

    expect(page.get_by_role("heading", level=1, name=scheme.name)).to_be_visible()


def test_home_page_has_no_accessibility_violations(page: Page, scheme: Any) -> None:
    page.goto("/")

    assert_no_axe_violations(page)


def test_home_page_with_no_open_scheme_has_no_accessibility_violations(page: Page) -> None:
    page.goto("/")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_axe_violations(page)


def test_home_page_fits_320_px_without_scrolling_sideways(narrow_page: Page, scheme: Any) -> None:
    narrow_page.goto("/")

    expect(narrow_page.get_by_role("heading", name=scheme.name)).to_be_visible()
    assert_no_horizontal_scroll(narrow_page)
    assert_no_axe_violations(narrow_page)


def test_home_page_works_with_javascript_off(page_without_js: Page, scheme: Any) -> None:
    page_without_js.goto("/")

    expect(page_without_js.get_by_role("heading", name=scheme.name)).to_be_visible()
    assert_no_axe_violations(page_without_js)


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page: Page, scheme: Any) -> None:
    page.goto("/")

    tab_to(page, "Skip to main content", role="link", max_presses=1)
    page.keyboard.press("Enter")

    expect(page.get_by_role("main")).to_be_focused()
