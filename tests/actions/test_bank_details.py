"""Bank details: encrypted under keys that rotate, full values only to finance officers
(each look audited), and a change held until a caseworker confirms it."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.urls import reverse

from claims.actions import payments, submission
from claims.actions.access import access_link_issue
from claims.core import Actor, ClaimError
from claims.delivery.emails import status_update_deliver
from claims.domain import crypto, roles
from claims.domain.stages import Stage
from claims.models import AuditEvent, BankDetails, StatusUpdate
from tests.support.factories import claim_in_stage, staff

SORT_CODE, ACCOUNT = "401276", "73915284"


def give_details(claim, *, sort_code=SORT_CODE, account=ACCOUNT, name="Zoë O'Brien"):
    return submission.bank_details_set(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        account_name=name,
        sort_code=sort_code,
        account_number=account,
    )


@pytest.fixture
def accepted(people):
    return claim_in_stage(Stage.ACCEPTED, people=people)


# --- encryption and rotation ------------------------------------------------------------


@pytest.mark.django_db
def test_bank_details_round_trip_through_encryption(accepted):
    details = give_details(accepted)

    details.refresh_from_db()
    assert ACCOUNT.encode() not in bytes(details.account_number_encrypted)
    assert crypto.decrypt(details.sort_code_encrypted) == SORT_CODE
    assert crypto.decrypt(details.account_number_encrypted) == ACCOUNT
    assert details.masked_account_number == "••••5284"


@pytest.mark.django_db
def test_rotation_lets_the_old_key_be_removed_with_every_value_still_readable(settings, people):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BANK_DETAILS_KEYS = [old]
    claims = [claim_in_stage(Stage.ACCEPTED, people=people) for _ in range(3)]
    for number, claim in enumerate(claims):
        give_details(claim, account=f"1000000{number}")
    settings.BANK_DETAILS_KEYS = [new, old]
    out = io.StringIO()

    call_command("rotate_bank_details", stdout=out)
    settings.BANK_DETAILS_KEYS = [new]

    assert "Re-encrypted 3 bank details" in out.getvalue()
    for number, claim in enumerate(claims):
        details = BankDetails.objects.get(claim=claim)
        assert crypto.decrypt(details.account_number_encrypted) == f"1000000{number}"
        assert crypto.decrypt(details.sort_code_encrypted) == SORT_CODE
    # Without the rotation, dropping the old key would leave the values unreadable.
    settings.BANK_DETAILS_KEYS = [old]
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(BankDetails.objects.first().sort_code_encrypted)


@pytest.mark.django_db
def test_rotation_refuses_clearly_when_a_needed_key_is_already_gone(settings, accepted):
    settings.BANK_DETAILS_KEYS = [Fernet.generate_key().decode()]
    give_details(accepted)
    settings.BANK_DETAILS_KEYS = [Fernet.generate_key().decode()]
    before = bytes(BankDetails.objects.get().sort_code_encrypted)

    with pytest.raises(ImproperlyConfigured, match="keep the old key"):
        call_command("rotate_bank_details", stdout=io.StringIO())

    assert bytes(BankDetails.objects.get().sort_code_encrypted) == before


# --- full values only to finance officers, each look audited ----------------------------


@pytest.mark.django_db
def test_finance_officer_sees_the_full_details_and_the_look_is_audited(client, accepted, people):
    give_details(accepted)
    client.force_login(people.finance)

    claim_page = client.get(reverse("admin:claims_claim_change", args=[accepted.pk]))
    shown = client.post(reverse("admin:claims_claim_bank_details", args=[accepted.pk]))

    assert "••••5284" in claim_page.content.decode()
    assert ACCOUNT not in claim_page.content.decode()
    text = shown.content.decode()
    assert shown.status_code == 200 and ACCOUNT in text and "40-12-76" in text
    assert "no-store" in shown["Cache-Control"]
    event = AuditEvent.objects.get(claim=accepted, action="bank_details_viewed")
    assert event.actor == people.finance and event.created_at is not None
    assert ACCOUNT not in str(event.data)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.CASEWORKER, roles.SENIOR_CASEWORKER])
def test_other_staff_cannot_see_the_full_details(client, accepted, role):
    give_details(accepted)
    client.force_login(staff(role))

    response = client.post(reverse("admin:claims_claim_bank_details", args=[accepted.pk]))

    assert response.status_code == 403 and ACCOUNT not in response.content.decode()
    assert not AuditEvent.objects.filter(action="bank_details_viewed").exists()
    with pytest.raises(ClaimError):
        payments.bank_details_reveal(claim_id=accepted.pk, actor=Actor.staff(staff(role)))


@pytest.mark.django_db
def test_full_details_are_never_shown_by_a_get(client, accepted, people):
    give_details(accepted)
    client.force_login(people.finance)

    response = client.get(reverse("admin:claims_claim_bank_details", args=[accepted.pk]))

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="bank_details_viewed").exists()


# --- a change after acceptance: told to the claimant, held until confirmed --------------


@pytest.mark.django_db
def test_first_details_are_not_held(accepted):
    details = give_details(accepted)

    assert not details.on_hold
    assert not StatusUpdate.objects.filter(kind="bank_details_changed").exists()


@pytest.mark.django_db
def test_changed_details_hold_payment_and_email_old_and_new_address(accepted):
    give_details(accepted)
    # Someone who took over the claim changed its email address, then the account.
    type(accepted).objects.filter(pk=accepted.pk).update(email="new-owner@example.test")

    details = give_details(accepted, account="99990000")

    assert details.on_hold and details.changed_at is not None
    event = AuditEvent.objects.get(claim=accepted, action="bank_details_changed")
    updates = StatusUpdate.objects.filter(kind="bank_details_changed", event=event)
    assert updates.count() == 2
    for update in updates:
        status_update_deliver(update.pk)
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == ["new-owner@example.test", "zoe@example.test"]
    body = mail.outbox[0].body
    assert "ending 0000" in body and "99990000" not in body and "did not make this change" in body


@pytest.mark.django_db
def test_a_caseworker_confirms_a_change_with_a_reason_and_the_hold_lifts(client, accepted, people):
    give_details(accepted)
    give_details(accepted, account="99990000")
    accepted.refresh_from_db()
    client.force_login(people.caseworker)
    url = reverse("admin:claims_claim_bank_details_confirm", args=[accepted.pk])

    page = client.get(reverse("admin:claims_claim_change", args=[accepted.pk])).content.decode()
    no_reason = client.post(url, {"version": accepted.version, "reason": " "}, follow=True)
    held = BankDetails.objects.get(claim=accepted).on_hold
    client.post(url, {"version": accepted.version, "reason": "Rang the number on file"})

    assert "Confirm the changed bank details" in page
    assert "Say how you confirmed" in no_reason.content.decode() and held
    details = BankDetails.objects.get(claim=accepted)
    assert not details.on_hold and details.confirmed_by == people.caseworker
    event = AuditEvent.objects.get(claim=accepted, action="bank_details_change_confirmed")
    assert event.actor == people.caseworker and event.reason == "Rang the number on file"


@pytest.mark.django_db
def test_a_finance_officer_cannot_confirm_a_change(accepted, people):
    give_details(accepted)
    give_details(accepted, account="99990000")

    with pytest.raises(ClaimError) as refused:
        payments.bank_details_confirm(
            claim_id=accepted.pk, actor=Actor.staff(people.finance), reason="Looks fine"
        )

    assert refused.value.code == "forbidden"
    assert BankDetails.objects.get(claim=accepted).on_hold


@pytest.mark.django_db
def test_the_claimant_is_told_a_change_is_checked_before_payment(client, accepted):
    client.post(f"/link/{access_link_issue(claim=accepted, purpose='follow')}/")
    details = {"account_name": "Zoë O'Brien", "sort_code": "40-12-76", "account_number": ACCOUNT}
    client.post("/my-claim/bank-details/", details)

    changed = client.post(
        "/my-claim/bank-details/", {**details, "account_number": "99990000"}, follow=True
    )

    text = changed.content.decode()
    assert "check the change with you before we pay" in text
    assert "99990000" not in text and "ending 0000" in text
