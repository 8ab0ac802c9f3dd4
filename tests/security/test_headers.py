"""Every response carries the security headers: a claimant page, a staff page, the
single-use link's pages and file downloads (issue 8, "What it must show")."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from claims.actions.access import access_link_issue
from claims.domain.stages import Stage
from claims.models import AccessLink
from tests.support.claimant import start_claim
from tests.support.factories import claim_in_stage, pdf_evidence
from tests.support.hostile import sign_in_as_claimant

pytestmark = pytest.mark.django_db

YEAR = 31_536_000


@pytest.fixture
def claim(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    pdf_evidence(claim)
    return claim


def csp(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


def assert_secure_headers(response, referrer: str = "same-origin") -> None:
    assert response["Strict-Transport-Security"] == f"max-age={YEAR}; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == referrer
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    policy = csp(response)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'none'"
    assert "unsafe-inline" not in policy.get("script-src", "")
    assert "no-store" in response["Cache-Control"]


def test_a_claimant_page_carries_every_security_header(client, claim):
    sign_in_as_claimant(client, claim)

    response = client.get("/my-claim/", secure=True)

    assert response.status_code == 200
    assert_secure_headers(response)
    assert csp(response)["script-src"] == "'self'"
    assert csp(response)["style-src"] == "'self'"


def test_a_staff_page_carries_every_security_header(client, people, claim):
    client.force_login(people.caseworker)

    response = client.get(reverse("admin:claims_claim_change", args=[claim.pk]), secure=True)

    assert response.status_code == 200
    assert_secure_headers(response)


@pytest.mark.parametrize("who", ["claimant", "staff"])
def test_a_file_download_carries_every_security_header_and_is_sandboxed(client, people, claim, who):
    evidence = claim.evidence.get()
    if who == "claimant":
        sign_in_as_claimant(client, claim)
        url = f"/my-claim/files/{evidence.pk}/"
    else:
        client.force_login(people.caseworker)
        url = reverse("admin:claims_claim_evidence", args=[claim.pk, evidence.pk]) + "?download=1"

    response = client.get(url, secure=True)

    assert response.status_code == 200
    assert_secure_headers(response)
    assert "sandbox" in csp(response)


def test_the_staff_sign_in_page_carries_every_security_header(db):
    from django.test import Client

    response = Client().get("/staff/login/", secure=True)

    assert response.status_code == 200
    assert_secure_headers(response)


def test_the_emailed_link_never_passes_its_token_on(client, claim):
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)

    hop = client.get(f"/link/{token}/", secure=True)
    confirm = client.get(hop.url, secure=True)
    opened = client.post(hop.url, secure=True)

    assert_secure_headers(hop, referrer="no-referrer")
    assert hop.status_code == 302 and token not in hop.url
    # The confirm page's address holds no token, so it may post with a normal Origin.
    assert_secure_headers(confirm)
    assert token not in confirm.content.decode()
    assert "Open my claim" in confirm.content.decode()
    assert opened.url == "/my-claim/"


def test_a_refused_link_page_also_sends_no_referrer(client):
    response = client.get("/link/not-a-real-token/", secure=True)

    assert response.status_code == 410
    assert_secure_headers(response, referrer="no-referrer")


def test_session_and_csrf_cookies_are_host_only_and_secure(client, claim):
    response = client.get(f"/s/{claim.scheme.slug}/start/", secure=True)
    sign_in_as_claimant(client, claim)

    session = client.cookies["__Host-sessionid"]
    csrf = response.cookies["__Host-csrftoken"]
    for cookie in (session, csrf):
        assert cookie["secure"] is True
        assert cookie["path"] == "/"
        assert not cookie["domain"]
    assert session["httponly"] is True


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"|\son[a-z]+=\"", re.I)


def test_no_page_needs_inline_script_or_style(client, people, claim, scheme_admin):
    """The CSP forbids them: a page that had one would break in the browser."""
    pages = [
        "/",
        f"/s/{claim.scheme.slug}/",
        f"/s/{claim.scheme.slug}/start/",
        "/follow/",
        "/staff/login/",
    ]
    from django.test import Client

    for url in pages:
        html = Client().get(url).content.decode()
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_STYLE.search(html), url
    # The lost-time page's live estimate is a script file of our own.
    drafter = Client()
    start_claim(drafter, claim.scheme)
    hours = drafter.get("/claim/losses/add/time_spent/").content.decode()
    assert 'src="/static/js/hours.js"' in hours
    assert not INLINE_SCRIPT.search(hours)
    assert not INLINE_STYLE.search(hours)
    client.force_login(scheme_admin)
    staff_pages = [
        "/admin/",
        reverse("admin:claims_claim_changelist"),
        reverse("admin:claims_claim_change", args=[claim.pk]),
        reverse("admin:claims_claim_dashboard"),
        reverse("mfa_index"),
    ]
    for url in staff_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_STYLE.search(html), url
