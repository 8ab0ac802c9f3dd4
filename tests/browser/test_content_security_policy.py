"""The Content Security Policy in real Chromium: no page of the claimant journey, the
staff sign-in or the staff site is refused anything by it (Chromium reports each
refusal on the console), and the lost-time estimate, a script of our own, still runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page, expect

from claims.domain import roles
from claims.domain.stages import Stage
from tests.support.factories import claim_in_stage, staff
from tests.support.staff_login import StaffClient


def refusals(page: Page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_claimant_pages_and_the_live_estimate_run_under_the_policy(page: Page, scheme: Any):
    seen = refusals(page)
    page.goto("/")
    page.goto(f"/s/{scheme.slug}/start/")
    page.goto(f"/s/{scheme.slug}/no-notice/")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Full name").fill("Zoë O'Brien")
    page.get_by_label("Email address").fill("zoe@example.com")
    page.get_by_label("Address", exact=True).fill("1 High Street")
    page.get_by_label("Postcode").fill("SW1A 1AA")
    page.get_by_role("button", name="Continue").click()
    page.goto("/claim/losses/add/time_spent/")
    page.get_by_label("How many hours did you spend?").fill("3")

    expect(page.get_by_role("status")).to_contain_text("3 hours at £25.00 an hour")
    assert seen == []


def test_staff_sign_in_and_staff_pages_run_under_the_policy(page: Page, live_server: Any):
    seen = refusals(page)
    page.goto("/staff/login/")
    expect(page.get_by_label("Username")).to_be_visible()
    claim = claim_in_stage(Stage.ASSESSMENT)
    client = StaffClient()
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                # Cookies ignore ports; Chromium sends Secure ones to http://localhost.
                "url": live_server.url.replace("http://", "https://"),
                "secure": True,
            }
        ]
    )
    for url in [
        reverse("admin:index"),
        reverse("admin:claims_claim_changelist"),
        reverse("admin:claims_claim_change", args=[claim.pk]),
        reverse("admin:claims_claim_dashboard"),
        reverse("admin:claims_scheme_change", args=[claim.scheme_id]),
        reverse("mfa_index"),
    ]:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert "/staff/" not in page.url or url == reverse("mfa_index"), page.url

    assert seen == []
