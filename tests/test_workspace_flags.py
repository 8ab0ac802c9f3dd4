"""Flags computed on submission, each saying why."""

from __future__ import annotations

import pytest

from claims import services
from claims.flags import NETWORK_LIMIT
from claims.models import ClaimFlag, HeadOfLoss, Stage
from claims.services import Actor
from tests.factories import RegisterEntryFactory, SchemeFactory, claim_in_stage, draft_claim

pytestmark = pytest.mark.django_db


def submitted(scheme, *, amount: str = "35.00", ip: str | None = None, **details):
    claim = draft_claim(scheme, **details)
    services.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category=HeadOfLoss.Category.OTHER_COSTS,
        amount_claimed=amount,
    )
    services.claim_submit(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), statement_of_truth=True, ip_address=ip
    )
    claim.refresh_from_db()
    return claim


def kinds(claim) -> set[str]:
    return set(claim.flags.values_list("kind", flat=True))


def on_register(scheme, n: int, **details):
    entry = RegisterEntryFactory(scheme=scheme)
    return {
        "register_entry_id": entry.pk,
        "email": f"person{n}@example.test",
        "phone": f"07700 900{n:03d}",
        "address": f"{n} Some Street\nLeeds",
        "postcode": "LS1 1AA",
        **details,
    }


def test_a_claim_not_on_the_register_is_flagged_and_says_why():
    scheme = SchemeFactory()

    claim = submitted(scheme, no_notice=True)
    matched = submitted(scheme, **on_register(scheme, 1))

    flag = claim.flags.get(kind=ClaimFlag.Kind.NOT_ON_REGISTER)
    assert "no notice" in flag.reason
    assert ClaimFlag.Kind.NOT_ON_REGISTER not in kinds(matched)


@pytest.mark.parametrize(
    ("shared", "kind"),
    [
        ({"email": "Same.Person@Example.test"}, ClaimFlag.Kind.SAME_EMAIL),
        ({"phone": "+44 7700 900999"}, ClaimFlag.Kind.SAME_PHONE),
        (
            {"address": "14 ST MARY'S ROAD,\n Cardiff", "postcode": "cf243ab"},
            ClaimFlag.Kind.SAME_ADDRESS,
        ),
    ],
)
def test_claims_sharing_a_detail_are_both_flagged(shared, kind):
    scheme = SchemeFactory()
    first_details = {
        "email": "same.person@example.test",
        "phone": "07700 900999",
        "address": "14 St Mary's Road\nCardiff",
        "postcode": "CF24 3AB",
    }
    first = submitted(scheme, **on_register(scheme, 1, **first_details))
    second = submitted(scheme, **on_register(scheme, 2, **shared))

    flag = second.flags.get(kind=kind)
    assert first.reference in flag.reason
    assert flag.related_claim == first
    assert first.flags.get(kind=kind).related_claim == second
    assert kinds(second) == {kind}


def test_claims_in_different_schemes_are_not_compared():
    first = submitted(SchemeFactory(), email="one@example.test")
    second = submitted(SchemeFactory(), email="one@example.test")

    assert ClaimFlag.Kind.SAME_EMAIL not in kinds(first) | kinds(second)


def test_many_claims_from_one_network_address_are_flagged():
    scheme = SchemeFactory()
    claims = [
        submitted(scheme, ip="203.0.113.9", **on_register(scheme, n)) for n in range(NETWORK_LIMIT)
    ]
    elsewhere = submitted(scheme, ip="198.51.100.1", **on_register(scheme, 99))

    for claim in claims:
        flag = claim.flags.get(kind=ClaimFlag.Kind.MANY_FROM_NETWORK)
        assert "203.0.113.9" in flag.reason
    assert ClaimFlag.Kind.MANY_FROM_NETWORK not in kinds(elsewhere)
    assert claims[0].submitted_ip == "203.0.113.9"


def test_an_amount_far_above_the_typical_claim_is_flagged():
    scheme = SchemeFactory()
    for n in range(20):
        submitted(scheme, amount="100.00", **on_register(scheme, n))

    usual = submitted(scheme, amount="400.00", **on_register(scheme, 50))
    huge = submitted(scheme, amount="9000.00", **on_register(scheme, 51))

    flag = huge.flags.get(kind=ClaimFlag.Kind.HIGH_AMOUNT)
    assert "£9,000.00" in flag.reason and "£100.00" in flag.reason
    assert ClaimFlag.Kind.HIGH_AMOUNT not in kinds(usual)


def test_before_there_are_enough_claims_the_threshold_is_the_guide():
    scheme = SchemeFactory()

    big = submitted(scheme, amount="5000.01", **on_register(scheme, 1))

    assert "too few claims" in big.flags.get(kind=ClaimFlag.Kind.HIGH_AMOUNT).reason
    assert big.flags.count() == 1


def test_two_claims_paid_into_one_bank_account_are_flagged(people):
    scheme = SchemeFactory()
    first = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    second = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    for claim in (first, second):
        services.bank_details_set(
            claim_id=claim.pk,
            actor=Actor.claimant(claim.pk),
            account_name="Z O'Brien",
            sort_code="30-94-57",
            account_number="12345678",
        )

    flag = second.flags.get(kind=ClaimFlag.Kind.SAME_BANK_ACCOUNT)
    assert first.reference in flag.reason
    assert first.flags.filter(kind=ClaimFlag.Kind.SAME_BANK_ACCOUNT).exists()
    # Only a keyed hash is kept for matching: never the number itself.
    keys = list(second.match_keys.values_list("digest", flat=True))
    assert all("12345678" not in key for key in keys)
