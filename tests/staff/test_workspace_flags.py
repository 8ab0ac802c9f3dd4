"""Flags found on submission, each saying why: by a task queued when the submission
commits, or by the sweep if that task is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from claims import outbox
from claims.actions import flags, submission
from claims.actions.flags import NETWORK_LIMIT
from claims.core import Actor
from claims.delivery import tasks
from claims.domain.stages import Stage
from claims.models import Claim, ClaimFlag, HeadOfLoss
from tests.support.factories import RegisterEntryFactory, SchemeFactory, claim_in_stage, draft_claim

pytestmark = pytest.mark.django_db


def submitted_unchecked(
    scheme, *, amount: str = "35.00", ip: str | None = None, **details
) -> Claim:
    """A claim just submitted, its flag check not yet run."""
    claim = draft_claim(scheme, **details)
    submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category=HeadOfLoss.Category.OTHER_COSTS,
        amount_claimed=amount,
    )
    submission.claim_submit(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), statement_of_truth=True, ip_address=ip
    )
    claim.refresh_from_db()
    return claim


def submitted(scheme, **kwargs) -> Claim:
    """A claim submitted and checked, as the worker checks it just after."""
    claim = submitted_unchecked(scheme, **kwargs)
    tasks.claim_flags_check(claim.pk)
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
        submission.bank_details_set(
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


# --- When flags are found -----------------------------------------------------------


def test_submitting_queues_the_flag_check_which_flags_the_claim_once(
    monkeypatch, django_capture_on_commit_callbacks
):

    published = []
    monkeypatch.setattr(outbox, "publish", lambda name, *args: published.append(name))
    scheme = SchemeFactory()

    with django_capture_on_commit_callbacks(execute=True):
        claim = submitted_unchecked(scheme, no_notice=True)

    assert published == [outbox.PUBLISH_TOGETHER_TASK]
    assert claim.flags_checked_at is None and kinds(claim) == set()
    assert tasks.claim_flags_check(claim.pk) == "1 flag(s)"
    claim.refresh_from_db()
    assert claim.flags_checked_at is not None
    assert kinds(claim) == {ClaimFlag.Kind.NOT_ON_REGISTER}
    # A task delivered twice changes nothing the second time.
    assert tasks.claim_flags_check(claim.pk) == "already checked"
    assert claim.flags.count() == 1


def test_the_sweep_checks_a_claim_whose_task_was_lost_and_only_once():
    scheme = SchemeFactory()
    lost = submitted_unchecked(scheme, no_notice=True)
    checked = submitted(scheme, no_notice=True, email="other@example.test")
    draft = draft_claim(scheme, email="draft@example.test")
    later = timezone.now() + flags.SWEEP_AFTER + dt.timedelta(seconds=1)

    assert flags.claim_flags_sweep() == 0  # its own task may still be on its way
    assert flags.claim_flags_sweep(now=later) == 1
    lost.refresh_from_db()
    assert lost.flags_checked_at is not None
    assert kinds(lost) == {ClaimFlag.Kind.NOT_ON_REGISTER}
    assert flags.claim_flags_sweep(now=later) == 0
    assert checked.flags.count() == 1
    draft.refresh_from_db()
    assert draft.flags_checked_at is None and draft.flags.count() == 0


def test_a_late_check_judges_the_claim_as_it_was_when_submitted():
    scheme = SchemeFactory()
    big = submitted_unchecked(scheme, amount="5000.01", **on_register(scheme, 1))
    network = [
        submitted_unchecked(scheme, ip="203.0.113.9", **on_register(scheme, 100 + n))
        for n in range(NETWORK_LIMIT - 1)
    ]
    # Claims submitted after these, while their checks were held up.
    for n in range(20):
        submitted(scheme, amount="100.00", **on_register(scheme, 10 + n))
    submitted_unchecked(scheme, ip="203.0.113.9", **on_register(scheme, 200))

    tasks.claim_flags_check(big.pk)
    tasks.claim_flags_check(network[-1].pk)

    # Judged against the claims before it (none), not the twenty after.
    assert "too few claims" in big.flags.get(kind=ClaimFlag.Kind.HIGH_AMOUNT).reason
    # Four claims from one address before it: not yet "many", whatever came after.
    assert ClaimFlag.Kind.MANY_FROM_NETWORK not in kinds(network[-1])


def test_a_flag_check_leaves_a_draft_alone():
    claim = draft_claim(SchemeFactory(), no_notice=True)

    assert flags.claim_flags_check(claim_id=claim.pk) is None
    assert flags.claim_flags_check(claim_id=claim.pk + 1000) is None
    claim.refresh_from_db()
    assert claim.flags_checked_at is None and claim.flags.count() == 0


def test_the_claim_page_says_when_flags_are_still_to_be_found(client, people):
    from django.urls import reverse

    scheme = SchemeFactory()
    claim = submitted_unchecked(scheme, no_notice=True)
    client.force_login(people.caseworker)
    url = reverse("admin:claims_claim_change", args=[claim.pk])

    before = client.get(url).content.decode()
    tasks.claim_flags_check(claim.pk)
    after = client.get(url).content.decode()

    assert 'id="flags-pending"' in before and 'id="flags"' not in before
    assert 'id="flags-pending"' not in after and "Not on the register" in after
