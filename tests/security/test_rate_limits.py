"""Every anonymous endpoint that looks something up or sends an email is limited per
address and per target, counted in the cache, with one clear "try again later" page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.test import Client, RequestFactory, override_settings

from claims.actions.access import access_link_issue
from claims.claimant.views.common import RATE_LIMITS
from claims.domain.stages import Stage
from claims.models import AccessLink
from config.security import client_ip
from tests.support.claimant import start_claim
from tests.support.factories import RegisterEntryFactory, SchemeFactory, claim_in_stage

pytestmark = pytest.mark.django_db

# Frozen mid-window: django-ratelimit counts in fixed windows, and a test running across
# a window's end would start again from zero.
NOW = dt.datetime(2026, 3, 2, 10, 0, 7, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def limit(group: str, which: int) -> int:
    return int(RATE_LIMITS[group][which].split("/")[0])


def test_every_limited_endpoint_is_listed_in_the_security_docs():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    for group, (ip_rate, target_rate) in RATE_LIMITS.items():
        assert f"| `{group}` |" in readme, group
        assert ip_rate in readme and target_rate in readme


def identify(scheme, code: str, ip: str):
    return Client(REMOTE_ADDR=ip).post(
        f"/s/{scheme.slug}/start/", {"notice_code": code, "postcode": "ZZ1 1ZZ"}
    )


def test_notice_codes_are_limited_per_code_across_addresses():
    scheme = SchemeFactory()
    entry = RegisterEntryFactory(scheme=scheme)
    codes = [identify(scheme, entry.notice_code, f"10.1.0.{n}").status_code for n in range(7)]

    allowed = limit("identify", 1)
    assert codes[:allowed] == [200] * allowed
    assert codes[allowed:] == [429] * (7 - allowed)


def test_notice_codes_are_limited_per_address_across_codes():
    scheme = SchemeFactory()
    allowed = limit("identify", 0)
    codes = [identify(scheme, f"CODE{n:04d}", "10.2.0.1").status_code for n in range(allowed + 2)]

    assert codes[:allowed] == [200] * allowed
    assert codes[allowed:] == [429, 429]


def test_links_are_limited_per_address_whatever_the_token(db):
    allowed = limit("link", 0)
    client = Client(REMOTE_ADDR="10.3.0.1")
    codes = [client.get(f"/link/guess-{n}/").status_code for n in range(allowed + 2)]

    assert codes[:allowed] == [410] * allowed
    assert codes[allowed:] == [429, 429]


def test_a_link_is_limited_per_token_across_addresses(people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    allowed = limit("link", 1)
    codes = [
        Client(REMOTE_ADDR=f"10.4.0.{n}").get(f"/link/{token}/").status_code
        for n in range(allowed + 1)
    ]

    assert codes[:allowed] == [302] * allowed
    assert codes[allowed] == 429
    assert AccessLink.objects.get().used_at is None


def test_save_and_return_emails_are_limited_per_claim_and_nothing_is_lost(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = Client(REMOTE_ADDR="10.5.0.1")
    claim = start_claim(client, SchemeFactory())
    mail.outbox.clear()
    allowed = limit("link_email", 1)

    codes = [client.post("/claim/save/").status_code for _ in range(allowed + 1)]
    refused = client.post(
        "/claim/what-happened/", {"what_happened": "Kept", "save_and_return": "1"}
    )

    assert codes == [302] * allowed + [429]
    assert len(mail.outbox) == allowed
    assert refused.status_code == 429
    claim.refresh_from_db()
    assert claim.what_happened == "Kept"  # the page's answer was saved all the same


def test_follow_answers_identically_when_the_claims_link_emails_are_used_up(people, monkeypatch):
    """/follow/ for a claim whose link emails are used up answers exactly as for a claim
    that does not exist: the email limit tells a guesser nothing."""
    monkeypatch.setitem(RATE_LIMITS, "link_email", ("20/h", "1/h"))
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    details = {"reference": claim.reference, "email": claim.email}

    first = Client(REMOTE_ADDR="10.6.0.1").post("/follow/", details)
    used_up = Client(REMOTE_ADDR="10.6.0.2").post("/follow/", details)
    unknown = Client(REMOTE_ADDR="10.6.0.3").post(
        "/follow/", {"reference": "RDR-ZZZZ-ZZZZ", "email": claim.email}
    )

    assert [m.to for m in mail.outbox] == [[claim.email]]  # the first only
    assert (first.status_code, first.url) == (302, "/follow/sent/")
    assert (used_up.status_code, used_up.url, used_up.content) == (
        unknown.status_code,
        unknown.url,
        unknown.content,
    )


def test_the_try_again_later_page_is_clear_accessible_and_never_cached():
    scheme = SchemeFactory()
    for _ in range(limit("identify", 1)):
        identify(scheme, "SAMECODE", "10.7.0.1")

    response = identify(scheme, "SAMECODE", "10.7.0.1")
    page = response.content.decode()

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "no-store" in response["Cache-Control"]
    assert '<html lang="en-GB">' in page
    assert "<h1>Too many attempts: please try again later</h1>" in page
    assert "Please wait 15 minutes and try again." in page
    assert "Nothing you have already saved has been lost." in page
    assert '<a href="/">Go to the start page</a>' in page


def test_staff_sign_in_limits_show_the_same_page(db):
    client = Client(REMOTE_ADDR="10.8.0.1")
    codes = [
        client.post("/staff/login/", {"login": f"nobody{n}", "password": "wrong"}).status_code
        for n in range(31)  # allauth: 30 sign-in attempts a minute from one address
    ]

    assert codes[-1] == 429
    assert (
        "Too many attempts"
        in client.post("/staff/login/", {"login": "nobody", "password": "wrong"}).content.decode()
    )


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw():
    spoofed = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9"
    )
    direct = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7")

    assert client_ip(spoofed) == "203.0.113.9"  # a client's own X-Forwarded-For is ignored
    assert client_ip(direct) == "198.51.100.7"


def test_rate_limits_are_counted_in_redis_when_redis_is_configured():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    out = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "REDIS_URL": "redis://cache.internal:6379/0",
        },
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "django.core.cache.backends.redis.RedisCache"
