"""Real-browser fixtures: Debian's Chromium, driven by Playwright, against pytest-django's
`live_server` (Django in a thread, on this worker's test database).

One browser per xdist worker; a new context (cookies, storage, viewport) per page, so
tests never share a session. Pages open at the live server: `page.goto("/")`.

Watch one test in a window (needs a display):
    HEADED=1 SLOWMO=300 .venv/bin/pytest tests/browser -k NAME
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).parent
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 640}  # WCAG 1.4.10 reflow: 1280 px at 400% zoom
# Nothing a page does should take long on loopback; fail fast with Playwright's own message.
TIMEOUT_MS = 10_000
FAILURES_DIR = Path(os.environ.get("REDRESS_VAR_DIR", "var")) / "browser-failures"

NewPage = Callable[..., Page]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if item.get_closest_marker("django_db") is None:
            # live_server needs committed rows, so each test flushes the database at the
            # end; serialized rollback puts back what migrations made (the role groups)
            # for the tests that follow on this worker.
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_failed_key] = report.failed
    return report


_failed_key = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM}: apt-get install chromium")
    # Playwright's sync API marks an event loop as running in this thread from now on,
    # for every later test on this worker. Django then takes ORM calls for async code
    # (nothing here is async, so allow them), and looks its connections up in a
    # context-local store instead of the thread-local one: put the same connection
    # objects there, or tests would get fresh ones without the serialized test data
    # that `serialized_rollback` restores (the role groups).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    thread_connections = {alias: connections[alias] for alias in connections}
    with sync_playwright() as driver:
        for alias, connection in thread_connections.items():
            connections[alias] = connection
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=not os.environ.get("HEADED"),  # Chromium's new headless mode
        slow_mo=float(os.environ.get("SLOWMO", 0)),
        # Playwright gives each launch a fresh, throwaway profile directory. These flags
        # stop Chromium reaching for the network on its own (sync, updates, QUIC probes):
        # this machine's closed network would refuse them, and tests must not depend on it.
        args=[
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    yield browser
    browser.close()


@pytest.fixture
def new_page(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[NewPage]:
    """Open a page in a context of its own: `new_page(java_script_enabled=False)`,
    `new_page(viewport={"width": 320, "height": 640})`; any `browser.new_context`
    keyword. Each call is a separate person: no shared cookies."""
    contexts: list[BrowserContext] = []

    def open_page(**context_options: Any) -> Page:
        options = {"viewport": DESKTOP, "locale": "en-GB", **context_options}
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page

    if request.node.stash.get(_failed_key, False):
        _keep_evidence(request.node.name, contexts)
    for context in contexts:
        context.close()


def _keep_evidence(test_name: str, contexts: list[BrowserContext]) -> None:
    FAILURES_DIR.mkdir(parents=True, exist_ok=True)
    for number, context in enumerate(contexts):
        for page in context.pages:
            stem = FAILURES_DIR / f"{test_name}-{number}"
            page.screenshot(path=f"{stem}.png", full_page=True)
            Path(f"{stem}.html").write_text(page.content())
            print(f"browser failure evidence for {page.url}: {stem}.png, {stem}.html")


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A desktop Chromium page (1280 x 800) with JavaScript on."""
    return new_page()


@pytest.fixture
def page_without_js(new_page: NewPage) -> Page:
    """A page with JavaScript turned off: every public form must work like this."""
    return new_page(java_script_enabled=False)


@pytest.fixture
def narrow_page(new_page: NewPage) -> Page:
    """A 320 CSS px wide page, as on a small phone or at 400% zoom."""
    return new_page(viewport=NARROW)
