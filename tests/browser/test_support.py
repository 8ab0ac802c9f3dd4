"""The browser fixtures and helpers catch what they exist to catch: a helper that
could never fail would make every browser test meaningless."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    assert_focus_visible,
    assert_no_axe_violations,
    assert_no_horizontal_scroll,
    focused_description,
    tab_to,
)

FORM = """<!doctype html><html lang="en"><title>Form</title><main><h1>Form</h1>
<a href="#x">First link</a>
<label for="postcode">Postcode</label><input id="postcode">
<button style="outline: none">Unmarked button</button>
</main></html>"""


def test_axe_reports_each_violation_readably(page: Page) -> None:
    page.set_content(
        '<!doctype html><html lang="en"><title>T</title><main><img src="x.png"></main>'
    )

    with pytest.raises(AssertionError, match=r"image-alt \(critical\): Images must have alternat"):
        assert_no_axe_violations(page)


def test_tab_to_walks_the_tab_order_by_accessible_name(page: Page) -> None:
    page.set_content(FORM)

    tab_to(page, "Postcode", role="textbox")
    page.keyboard.type("SW1A 1AA")

    expect(page.get_by_label("Postcode")).to_have_value("SW1A 1AA")


def test_tab_to_finds_a_field_whose_label_holds_an_error_message(page: Page) -> None:
    page.set_content(
        '<!doctype html><html lang="en"><title>Form</title><main><h1>Form</h1><label>'
        "Postcode <span>Error: Enter the postcode, like 'SW1A 1AA'.</span><input></label>"
    )

    tab_to(page, re.compile("^Postcode Error: Enter the postcode, like 'SW1A"), role="textbox")
    page.keyboard.type("SW1A 1AA")

    assert focused_description(page).startswith('textbox "Postcode Error: Enter the postcode')


def test_tab_to_lists_the_tab_order_when_the_control_is_not_reached(page: Page) -> None:
    page.set_content(FORM)

    with pytest.raises(AssertionError, match=re.escape('link "First link"')):
        tab_to(page, "Start your claim", max_presses=3)


def test_a_focus_indicator_that_was_removed_is_caught(page: Page) -> None:
    page.set_content(FORM)
    page.get_by_label("Postcode").focus()
    page.keyboard.press("Tab")

    with pytest.raises(AssertionError, match=r'button "Unmarked button" .* no visible indicator'):
        assert_focus_visible(page)


def test_sideways_scrolling_at_320_px_is_caught(narrow_page: Page) -> None:
    narrow_page.set_content('<div style="width: 400px">too wide</div>')

    with pytest.raises(AssertionError, match="is 408px wide in a 320px viewport"):
        assert_no_horizontal_scroll(narrow_page)


def test_the_no_javascript_page_really_runs_no_scripts(page_without_js: Page) -> None:
    page_without_js.set_content(
        "<p id=p>off</p><script>document.getElementById('p').textContent='on'</script>"
    )

    expect(page_without_js.locator("#p")).to_have_text("off")


def test_the_live_server_serves_static_files(page: Page) -> None:
    response = page.goto("/static/admin/css/base.css")

    assert response is not None and response.ok
    assert "text/css" in response.headers["content-type"]


def test_axe_runs_on_a_page_with_javascript_off(page_without_js: Page) -> None:
    page_without_js.set_content(
        '<!doctype html><html lang="en"><title>T</title><main><img src="x.png"></main>'
    )

    with pytest.raises(AssertionError, match="image-alt"):
        assert_no_axe_violations(page_without_js)
