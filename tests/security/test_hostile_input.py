"""Hostile text on every public form: NUL bytes, lone surrogates and broken UTF-8,
header injection, HTML and template syntax, spreadsheet formulas, oversized values and
requests; and enumeration through answers that differ."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from claims.claimant.views.common import RATE_LIMITS
from claims.domain.stages import Stage
from claims.models import Claim, HeadOfLoss, RegisterEntry
from tests.security.conftest import strip_tokens
from tests.support.claimant import CONTACT, fill_draft, start_claim
from tests.support.factories import RegisterEntryFactory, SchemeFactory, claim_in_stage

pytestmark = pytest.mark.django_db

# Values as raw, already-encoded bytes: a test client would refuse to encode some.
PAYLOADS: dict[str, bytes] = {
    "NUL byte": b"before%00after",
    "lone surrogate (CESU-8)": b"x%ED%A0%80y",
    "overlong UTF-8": b"%C0%AE%C0%AE%2F",
    "invalid UTF-8": b"%FF%FE%FD",
    "CRLF header injection": b"x%0D%0ABcc%3A%20evil%40example.com",
    "HTML and script": urllib.parse.quote(
        "<script>alert(1)</script><img src=x onerror=alert(2)>"
    ).encode(),
    "template syntax": urllib.parse.quote("{{ settings.SECRET_KEY }}{% debug %}").encode(),
    "spreadsheet formula": urllib.parse.quote('=HYPERLINK("http://evil.example","x")').encode(),
    "100,000 characters": b"A" * 100_000,
}
BASE: dict[str, dict[str, Any]] = {
    "/claim/contact/": CONTACT,
    "/claim/someone-else/": {
        "on_behalf": "yes",
        "representative_name": "Sam",
        "representative_reason": "My mother",
    },
    "/claim/what-happened/": {"what_happened": "Two payments I did not make."},
    "/claim/losses/add/bank_charges/": {
        "incurred_on_0": "14",
        "incurred_on_1": "3",
        "incurred_on_2": "2017",
        "amount": "35.00",
        "description": "Overdraft fee",
    },
    "/claim/losses/add/time_spent/": {"hours": "3", "description": "Calls to the bank"},
    "/claim/distress/": {"affected": "yes", "effects": ["worry"], "account": "Worried"},
    "/claim/support/": {
        "support_needs": "Large print",
        "preferred_format": "standard",
        "preferred_language": "",
    },
}
SURROGATE = re.compile("[\ud800-\udfff]")


def encode(data: dict[str, Any], field: str, payload: bytes) -> bytes:
    parts = []
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            encoded = payload if name == field else urllib.parse.quote(str(item)).encode()
            parts.append(name.encode() + b"=" + encoded)
    if field not in data:
        parts.append(field.encode() + b"=" + payload)
    return b"&".join(parts)


def stored_text() -> str:
    """Every text the database holds for claims and their items, as one string."""
    rows = list(Claim.objects.values()) + list(HeadOfLoss.objects.values())
    return "".join(str(value) for row in rows for value in row.values())


def clean(before_mail: int):
    def check(response) -> bool:
        page = response.content.decode(errors="replace")
        text = stored_text()
        evil_mail = any(
            "evil@example.com" in ",".join(m.to + m.cc + m.bcc) or "Bcc" in str(m.extra_headers)
            for m in mail.outbox[before_mail:]
        )
        return (
            response.status_code in {200, 302, 400, 404, 413}
            and "\x00" not in text
            and not SURROGATE.search(text)
            and "<script>alert(1)" not in page
            and "<img src=x onerror" not in page
            and settings.SECRET_KEY not in page
            and not evil_mail
        )

    return check


def test_every_claim_form_field_survives_every_hostile_value(attacker):
    client = Client()
    scheme = SchemeFactory()
    start_claim(client, scheme)
    fill_draft(client)
    for path, data in BASE.items():
        for field in data:
            if field in {"on_behalf", "affected", "effects", "preferred_format"}:
                continue  # choices: a value not offered is refused by the form
            for label, payload in PAYLOADS.items():
                before = len(mail.outbox)
                attacker.attempt(
                    f"{label} in {field} at POST {path}",
                    lambda path=path, data=data, field=field, payload=payload: client.generic(
                        "POST",
                        path,
                        encode(data, field, payload),
                        content_type="application/x-www-form-urlencoded",
                    ),
                    clean(before),
                )
    # What was stored is shown back as text, never as markup, on the check page.
    check_page = client.get("/claim/check/")
    attacker.attempt(
        "stored hostile text rendered on the check page",
        lambda: check_page,
        clean(len(mail.outbox)),
    )


def test_public_look_ups_survive_every_hostile_value(attacker, monkeypatch):
    # Limits lifted, so every value reaches the form rather than the "try later" page.
    for group in ("identify", "follow"):
        monkeypatch.setitem(RATE_LIMITS, group, ("1000/m", "1000/m"))
    scheme = SchemeFactory()
    forms = {
        f"/s/{scheme.slug}/start/": {"notice_code": "ABCD2345", "postcode": "SW1A 1AA"},
        "/follow/": {"reference": "RDR-AAAA-BBBB", "email": "zoe@example.test"},
    }
    tries = 0
    for path, data in forms.items():
        for field in data:
            for label, payload in PAYLOADS.items():
                before = len(mail.outbox)
                tries += 1
                attacker.attempt(
                    f"{label} in {field} at POST {path}",
                    lambda path=path, data=data, field=field, payload=payload, n=tries: Client(
                        REMOTE_ADDR=f"10.40.0.{n}"
                    ).generic(
                        "POST",
                        path,
                        encode(data, field, payload),
                        content_type="application/x-www-form-urlencoded",
                    ),
                    lambda response, before=before: (
                        clean(before)(response) and len(mail.outbox) == before
                    ),
                )


@pytest.mark.parametrize(
    "path",
    [
        "/link/%ED%A0%80/",
        "/link/%00/",
        "/s/%ED%A0%80/start/",
        "/claim/losses/%F0%9F%92%A9/change/",
        "/my-claim/files/99999999999999999999999/",
        "/claim/losses/add/%0D%0ASet-Cookie:x=y/",
        "/follow/?next=%0D%0ASet-Cookie:x=y",
        "/" + "a" * 8000 + "/",
    ],
)
def test_hostile_addresses_are_refused_without_an_error(attacker, path):
    response = attacker.attempt(
        f"hostile address GET {path[:60]}",
        lambda: Client().get(path),
        lambda response: (
            response.status_code in {200, 302, 400, 404, 410}
            and "Set-Cookie" not in str(response.headers.get("Location", ""))
            and "x=y" not in response.cookies
        ),
    )
    assert response.status_code < 500


def test_a_forged_host_header_is_refused_and_links_use_the_site_address(attacker):
    claim = claim_in_stage(Stage.SUBMITTED)
    attacker.attempt(
        "Host header injection on /follow/",
        lambda: Client(HTTP_HOST="evil.example").post(
            "/follow/", {"reference": claim.reference, "email": claim.email}
        ),
        lambda response: response.status_code == 400 and not mail.outbox,
    )
    attacker.attempt(
        "X-Forwarded-Host injection on /follow/",
        lambda: Client(HTTP_X_FORWARDED_HOST="evil.example").post(
            "/follow/", {"reference": claim.reference, "email": claim.email}
        ),
        lambda response: (
            "evil.example" not in mail.outbox[-1].body and settings.SITE_URL in mail.outbox[-1].body
        ),
    )


def test_oversized_requests_are_refused_without_an_error(attacker):
    client = Client()
    start_claim(client, SchemeFactory())
    before = Claim.objects.values_list("what_happened", flat=True).get()
    attacker.attempt(
        "3 MB form body",
        lambda: client.post("/claim/what-happened/", {"what_happened": "A" * 3_000_000}),
        lambda response: (
            response.status_code in {200, 400, 413}
            and Claim.objects.values_list("what_happened", flat=True).get() == before
        ),
    )
    many = "&".join(f"f{n}=x" for n in range(5000)).encode()
    attacker.attempt(
        "5,000 form fields",
        lambda: client.generic(
            "POST",
            "/claim/what-happened/",
            many,
            content_type="application/x-www-form-urlencoded",
        ),
        lambda response: response.status_code in {200, 400},
    )
    attacker.attempt(
        "Content-Length claiming 10 GB",
        lambda: client.generic(
            "POST",
            "/claim/what-happened/",
            b"what_happened=x",
            content_type="application/x-www-form-urlencoded",
            CONTENT_LENGTH="10737418240",
        ),
        lambda response: (
            response.status_code in {200, 400, 413}
            and Claim.objects.values_list("what_happened", flat=True).get() == before
        ),
    )


def test_wrong_answers_are_byte_identical_whatever_exists(attacker):
    """Enumeration: a real notice code with the wrong postcode, a code that does not
    exist, and a code from another scheme get exactly the same page."""
    scheme = SchemeFactory()
    entry = RegisterEntryFactory(scheme=scheme, postcode="SW1A1AA")
    other = RegisterEntryFactory(scheme=SchemeFactory())

    def answer(code: str) -> bytes:
        response = Client(REMOTE_ADDR=f"10.20.{len(code)}.{ord(code[-1]) % 250}").post(
            f"/s/{scheme.slug}/start/", {"notice_code": code, "postcode": "ZZ9 9ZZ"}
        )
        # The code typed is shown back in its box; all else must be the same.
        page = strip_tokens(response.content).replace(code.encode(), b"[typed]")
        return str(response.status_code).encode() + page

    unknown = answer("ZZZZ-ZZZZ-ZZZZ")  # well formed, on no register
    for label, code in [
        ("real code, wrong postcode", entry.notice_code),
        ("another scheme's code", other.notice_code),
    ]:
        attacker.attempt(
            f"enumeration: {label} answered differently from an unknown code",
            lambda code=code: answer(code),
            lambda body: body == unknown,
        )
    assert RegisterEntry.objects.count() == 2


def test_guessing_notice_codes_from_one_address_trips_the_limit(attacker):
    scheme = SchemeFactory()
    entry = RegisterEntryFactory(scheme=scheme)
    client = Client(REMOTE_ADDR="10.30.0.1")
    codes = [
        client.post(
            f"/s/{scheme.slug}/start/", {"notice_code": f"GUES{n:04d}", "postcode": "ZZ9 9ZZ"}
        ).status_code
        for n in range(25)
    ]
    attacker.attempt(
        "enumeration: 25 guesses, then the real code, from one address",
        lambda: client.post(
            f"/s/{scheme.slug}/start/",
            {"notice_code": entry.notice_code, "postcode": entry.postcode},
        ),
        lambda response: response.status_code == 429 and codes[-1] == 429,
    )
