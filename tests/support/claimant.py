"""Drive the claimant pages through Django's test client, as a browser would."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core import mail
from django.test import Client

from claims.models import Claim, RegisterEntry, Scheme

LINK = re.compile(r"https?://\S+?(/link/[\w-]+/)")


def start_claim(client: Client, scheme: Scheme, entry: RegisterEntry | None = None) -> Claim:
    """Identify (or claim without a notice) and give contact details: a draft exists."""
    if entry is None:
        response = client.post(f"/s/{scheme.slug}/no-notice/")
    else:
        response = client.post(
            f"/s/{scheme.slug}/start/",
            {"notice_code": entry.notice_code, "postcode": entry.postcode},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post("/claim/contact/", CONTACT)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Claim.objects.latest("created_at")


CONTACT = {
    "full_name": "Zoë O'Brien",
    "email": "zoe@example.com",
    "phone": "",
    "address": "1 High Street\nLondon",
    "postcode": "sw1a 1aa",
}


def post_ok(client: Client, path: str, data: dict[str, Any] | None = None) -> str:
    response = client.post(path, data or {})
    assert response.status_code == 302, response.content.decode()[:3000]
    return str(response.url)


def fill_draft(client: Client) -> None:
    """Answer every page after contact details."""
    post_ok(client, "/claim/someone-else/", {"on_behalf": "no"})
    post_ok(client, "/claim/what-happened/", {"what_happened": "Two payments I did not make."})
    post_ok(
        client,
        "/claim/losses/add/unauthorised_transactions/",
        {
            "incurred_on_0": "14",
            "incurred_on_1": "3",
            "incurred_on_2": "2017",
            "amount": "120.50",
            "description": "Florist in Leeds",
        },
    )
    post_ok(client, "/claim/losses/add/time_spent/", {"hours": "3", "description": "Calls"})
    post_ok(client, "/claim/losses/")
    post_ok(client, "/claim/distress/", {"affected": "yes", "effects": ["worry"], "account": ""})
    post_ok(client, "/claim/support/", {"preferred_format": "standard"})


def last_link_path(to: str | None = None) -> str:
    """The path of the newest single-use link emailed (to `to`, if given)."""
    for message in reversed(mail.outbox):
        if to is None or to in message.to:
            match = LINK.search(message.body)
            assert match, message.body
            assert message.body.count(settings.SITE_URL) >= 1
            return match.group(1)
    raise AssertionError(f"no link emailed to {to}")
