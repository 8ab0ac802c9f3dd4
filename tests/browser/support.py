"""Helpers for real-browser tests: drive a page as a person would (keyboard, labels,
button text) and check what every public page owes its users (WCAG 2.2 AA, reflow
at 320 px). Fixtures are in conftest.py beside this file."""

from __future__ import annotations

import json
import re

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Locator, Page

# WCAG 2.0, 2.1 and 2.2 at levels A and AA: the standard the scheme's public forms meet.
# axe-core itself (AXE_SCRIPT) ships inside axe-playwright-python: nothing is fetched.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# With scripting off, <noscript> content parses as elements rather than text: a test
# that no page's Content-Security-Policy can upset.
_SCRIPTING_DISABLED = """() => {
  const probe = document.createElement('div');
  probe.innerHTML = '<noscript><p></p></noscript>';
  return probe.querySelector('noscript p') !== null;
}"""
# A page with JavaScript off still lets Playwright evaluate code, but Chromium never
# runs its timers, so axe.run would wait for ever; promise jobs do run. The page's
# own scripts are off, so nothing else sees the swap.
_TIMERS_AS_PROMISES = """() => {
  window.setTimeout = (callback, delay, ...args) => {
    Promise.resolve().then(() => callback(...args));
    return 0;
  };
  window.clearTimeout = () => {};
  window.queueMicrotask = (callback) => { Promise.resolve().then(callback); };
}"""
_ARIA_LINE = re.compile(r'^(?P<role>[\w-]+)(?: "(?P<name>(?:[^"\\]|\\.)*)")?')


def assert_no_axe_violations(page: Page, *, best_practice: bool = True) -> None:
    """Run axe-core on the page as it is now; fail listing every violation.

    Call it on each state a person can see: the empty form, its error state, the
    confirmation. `best_practice` adds axe's best-practice rules (landmarks, one h1,
    heading order) to the WCAG 2.2 AA ones."""
    tags = WCAG_22_AA + (["best-practice"] if best_practice else [])
    options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
    if page.evaluate(_SCRIPTING_DISABLED):
        page.evaluate(_TIMERS_AS_PROMISES)
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    violations = page.evaluate("options => axe.run(document, options)", options)["violations"]
    if violations:
        raise AssertionError(
            f"axe found {len(violations)} accessibility violation(s) on {page.url}:\n"
            + "\n".join(_describe_violation(v) for v in violations)
        )


def _describe_violation(violation: dict) -> str:
    lines = [
        f"- {violation['id']} ({violation['impact']}): {violation['help']}",
        f"  {violation['helpUrl']}",
    ]
    for node in violation["nodes"]:
        lines.append(f"  at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
        lines.extend(f"    {line}" for line in node["failureSummary"].splitlines()[1:])
    return "\n".join(lines)


def assert_no_horizontal_scroll(page: Page) -> None:
    """WCAG 1.4.10 reflow: at 320 CSS px wide nothing needs scrolling sideways."""
    scroll_width, viewport_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= viewport_width, (
        f"{page.url} is {scroll_width}px wide in a {viewport_width}px viewport: "
        "a person would have to scroll sideways"
    )


def focused_description(page: Page) -> str:
    """The focused element as a screen reader would announce it: `link "Start"`."""
    if page.evaluate("document.activeElement === null || document.activeElement === document.body"):
        return "(nothing: the page itself)"
    return _focused_snapshot_line(page).rstrip(":") or "(unnamed)"


def _focused_snapshot_line(page: Page) -> str:
    """The focused element's own line of its aria snapshot: `textbox "Name" [invalid]`.
    The snapshot is YAML, which single-quotes a line holding ': ' (a label followed by
    "Error: ...") and doubles the quotes inside; undo that."""
    snapshot = page.locator(":focus").aria_snapshot()
    line = snapshot.splitlines()[0].removeprefix("- ") if snapshot else ""
    if line.startswith("'"):
        end = 1
        while (end := line.index("'", end)) + 1 < len(line) and line[end + 1] == "'":
            end += 2
        line = line[1:end].replace("''", "'") + line[end + 1 :]
    return line


def _focused_role_and_name(page: Page) -> tuple[str, str] | None:
    if page.evaluate("document.activeElement === null || document.activeElement === document.body"):
        return None
    match = _ARIA_LINE.match(_focused_snapshot_line(page))
    if not match:
        return None
    name = json.loads(f'"{match["name"]}"') if match["name"] is not None else ""
    return match["role"], name


def tab_to(
    page: Page,
    name: str | re.Pattern[str],
    *,
    role: str | None = None,
    max_presses: int = 40,
    backwards: bool = False,
) -> Locator:
    """Press Tab (Shift+Tab if `backwards`) until the focused control's accessible name
    is `name` (exactly, or matching a pattern), and the role is `role` if given; then
    check a sighted keyboard user can see where focus is. Returns the focused element.

    Fails with the Tab order it walked through when no control matches: that list is
    what a keyboard user would have met."""
    key = "Shift+Tab" if backwards else "Tab"
    walked: list[str] = []
    for _ in range(max_presses):
        page.keyboard.press(key)
        found = _focused_role_and_name(page)
        walked.append(focused_description(page))
        if found is None:
            continue
        found_role, found_name = found
        name_matches = (
            name.search(found_name) is not None
            if isinstance(name, re.Pattern)
            else " ".join(found_name.split()) == name
        )
        if name_matches and (role is None or found_role == role):
            assert_focus_visible(page)
            return page.locator(":focus")
    wanted = f"{role or 'control'} {name!r}"
    raise AssertionError(
        f"{wanted} not reached after {max_presses} presses of {key}; focus went:\n  "
        + "\n  ".join(walked)
    )


def assert_focus_visible(page: Page) -> None:
    """WCAG 2.4.7: the focused element shows a focus indicator, an outline or a box
    shadow (an outline alone survives Windows high-contrast mode; a style that only
    changes colour would not count, and should not be used)."""
    state = page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          const style = getComputedStyle(el);
          const box = el.getBoundingClientRect();
          return {
            focusVisible: el.matches(':focus-visible'),
            outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
            shadow: style.boxShadow !== 'none',
            onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
              && box.top < innerHeight && box.left < innerWidth,
          };
        }"""
    )
    described = focused_description(page)
    assert state is not None, "nothing has focus"
    assert state["focusVisible"], f"{described} has focus but does not match :focus-visible"
    assert state["outline"] or state["shadow"], f"{described} has focus but no visible indicator"
    assert state["onScreen"], f"{described} has focus but is off screen"
