"""Every legal move does exactly its job; every illegal one is refused and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from claims.actions import casework, offers, payments, submission
from claims.core import Actor, ClaimError
from claims.domain import roles
from claims.domain.stages import TRANSITIONS, ActorKind, Stage, transitions_from
from claims.models import AuditEvent, Claim, Offer, StatusUpdate
from tests.support import partial as partial_support
from tests.support.factories import (
    People,
    assess_all,
    claim_in_stage,
    large_offer_in_review,
    revise_above_threshold,
    staff,
)

FAR_FUTURE = timezone.localdate() + dt.timedelta(days=400)


def attempt(claim: Claim, name: str, people: People, actor: Actor | None = None) -> None:
    """Make the move `name` on `claim` through its service, as the right person would."""
    pk = claim.pk
    transition = TRANSITIONS[name]
    if actor is None:
        if ActorKind.CLAIMANT in transition.actors:
            actor = Actor.claimant(pk)
        elif ActorKind.STAFF in transition.actors:
            user = {
                "claims.manage_payments": people.finance,
                "claims.approve_offer": people.senior,
                "claims.decide_review": people.senior,
            }.get(transition.permission or "", people.caseworker)
            actor = Actor.staff(user)
        else:
            actor = Actor.system()
    if name == "submit":
        submission.claim_submit(claim_id=pk, actor=actor, statement_of_truth=True)
    elif name == "information_request":
        casework.claim_request_information(claim_id=pk, actor=actor, request="Send a statement")
    elif name == "information_provide":
        submission.claim_provide_information(claim_id=pk, actor=actor, response="Attached")
    elif name == "information_resume":
        casework.claim_resume_assessment(claim_id=pk, actor=actor, reason="Came by post")
    elif name == "close_incomplete":
        casework.claim_close_incomplete(claim_id=pk, actor=actor, today=FAR_FUTURE)
    elif name in {"offer_propose", "offer_make"}:
        offers.offer_propose(claim_id=pk, actor=actor)
    elif name in {"offer_approve", "review_approve"}:
        offers.offer_approve(claim_id=pk, actor=actor)
    elif name == "offer_return":
        offers.offer_return(claim_id=pk, actor=actor, reason="Check the March charges")
    elif name == "offer_accept":
        offers.offer_accept(claim_id=pk, actor=actor)
    elif name == "offer_decline":
        offers.offer_decline(claim_id=pk, actor=actor, reason="Too low")
    elif name == "offer_expire":
        offers.offer_expire(claim_id=pk, actor=actor, today=FAR_FUTURE)
    elif name in {"review_revise", "review_propose"}:
        offers.review_revise(claim_id=pk, actor=actor, reason="Bank charges now evidenced")
    elif name == "review_return":
        offers.offer_return(claim_id=pk, actor=actor, reason="Check the March charges")
    elif name == "rejection_review_request":
        casework.rejection_review_request(claim_id=pk, actor=actor, reason="I was a customer")
    elif name in {"rejection_review_uphold", "rejection_review_reopen"}:
        decision = name.removeprefix("rejection_review_")
        casework.rejection_review_decide(
            claim_id=pk, actor=actor, decision=decision, reason="Looked again"
        )
    elif name == "review_uphold":
        offers.review_uphold(claim_id=pk, actor=actor, reason="The offer was right")
    elif name == "withdraw":
        submission.claim_withdraw(claim_id=pk, actor=actor, reason="No longer needed")
    elif name in {"offer_accept_part", "revised_offer_accept"}:
        partial_support.attempt(claim, name, actor)
    elif name == "payment_queue":
        payments.payment_batch_build(scheme_id=claim.scheme_id, actor=actor, claim_ids=[pk])
    elif name in {"payment_confirm", "payment_fail"}:
        # The claim's pending payment; none (a claim in another stage) is not found.
        payment = claim.payments.filter(state="pending").first()
        payment_id = payment.pk if payment else 0
        if name == "payment_confirm":
            payments.payment_mark_paid(payment_id=payment_id, actor=actor)
        else:
            payments.payment_mark_failed(payment_id=payment_id, actor=actor, reason="Returned")
    else:
        reason = "Not on the register" if TRANSITIONS[name].reason_required else ""
        casework.claim_transition(claim_id=pk, transition=name, actor=actor, reason=reason)


def ready(stage: str, name: str, people: People) -> Claim:
    """A claim in `stage` with whatever groundwork the move `name` needs done."""
    large = stage == Stage.OFFER_PENDING_APPROVAL or (
        stage == Stage.ASSESSMENT and name == "offer_propose"
    )
    if (name, stage) in partial_support.READY:
        return partial_support.READY[name, stage](people)
    if name in {"review_propose", "review_return", "review_approve"} and stage in {
        Stage.REVIEW,
        Stage.OFFER_PENDING_APPROVAL,
    }:
        # A revised offer above the threshold: proposed in the review, or waiting.
        claim = large_offer_in_review(people)
        if stage == Stage.OFFER_PENDING_APPROVAL:
            revise_above_threshold(claim)
        return claim
    claim = claim_in_stage(stage, people=people, large=large)
    if stage == Stage.ACCEPTED and name == "payment_queue":
        submission.bank_details_set(
            claim_id=claim.pk,
            actor=Actor.claimant(claim.pk),
            account_name="Zoë O'Brien",
            sort_code="309457",
            account_number="12345678",
        )
        claim.refresh_from_db()
    if stage == Stage.ASSESSMENT and name in {"offer_propose", "offer_make"}:
        assess_all(claim, people.caseworker)
        claim.refresh_from_db()
    return claim


LEGAL = [(t.name, source) for t in TRANSITIONS.values() for source in sorted(t.sources)]
ILLEGAL = [
    (t.name, stage)
    for t in TRANSITIONS.values()
    for stage in Stage.values
    if stage not in t.sources
    # A repeated submit finds the claim submitted and changes nothing: tested below.
    and (t.name, stage) != ("submit", Stage.SUBMITTED)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "source"), LEGAL)
def test_legal_transition_moves_stage_and_writes_event_and_status_update(name, source, people):
    claim = ready(source, name, people)
    events_before = set(claim.events.values_list("pk", flat=True))
    updates_before = claim.status_updates.count()
    transition = TRANSITIONS[name]

    attempt(claim, name, people)

    claim.refresh_from_db()
    assert claim.stage == transition.target
    new_events = claim.events.exclude(pk__in=events_before).filter(action=name)
    assert new_events.count() == 1
    event = new_events.get()
    assert (event.from_stage, event.to_stage) == (source, transition.target)
    assert event.actor_kind in transition.actors
    if event.actor_kind == ActorKind.STAFF:
        assert event.actor is not None and event.actor.has_perm(transition.permission)
    if transition.reason_required:
        assert event.reason
    update = claim.status_updates.get(event=event)
    assert update.kind == transition.update
    assert update.stage == transition.target
    assert update.state == StatusUpdate.State.PENDING
    assert len(update.verification_code) == 6
    assert claim.status_updates.count() == updates_before + 1


def _snapshot(claim: Claim) -> tuple:
    claim.refresh_from_db()
    return (
        claim.stage,
        claim.version,
        AuditEvent.objects.count(),
        StatusUpdate.objects.count(),
        Offer.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "stage"), ILLEGAL)
def test_illegal_transition_is_refused_and_writes_nothing(name, stage, people):
    claim = ready(stage, name, people)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        attempt(claim, name, people)

    assert refused.value.code in {"illegal_transition", "not_found"}
    assert refused.value.message
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_submitting_twice_makes_one_submission(people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    before = _snapshot(claim)

    submission.claim_submit(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), statement_of_truth=True
    )

    assert _snapshot(claim) == before
    assert claim.events.filter(action="submit").count() == 1


def test_every_stage_but_the_final_ones_has_a_way_out():
    for stage in Stage.values:
        exits = transitions_from(stage)
        if stage in {
            s.value
            for s in (
                Stage.CLOSED_INCOMPLETE,
                Stage.CLOSED,
                Stage.OFFER_EXPIRED,
                Stage.WITHDRAWN,
            )
        }:
            assert exits == [], stage
        else:
            assert exits, stage


def test_withdrawal_is_possible_at_every_stage_before_payment_and_not_after():
    sources = TRANSITIONS["withdraw"].sources
    assert Stage.ACCEPTED in sources
    assert not sources & {Stage.PAYMENT_PENDING, Stage.PAID, Stage.CLOSED}


def test_every_transition_tells_the_claimant():
    assert all(t.update for t in TRANSITIONS.values())


# --- Who may make each move ---------------------------------------------------

STAFF_TRANSITIONS = [t for t in TRANSITIONS.values() if ActorKind.STAFF in t.actors]


@pytest.mark.django_db
@pytest.mark.parametrize("transition", STAFF_TRANSITIONS, ids=lambda t: t.name)
@pytest.mark.parametrize("role", [*roles.ROLES, None])
def test_staff_move_is_allowed_exactly_for_roles_holding_its_permission(transition, role, people):
    source = sorted(transition.sources)[0]
    claim = ready(source, transition.name, people)
    user = staff(role) if role else staff(None)
    allowed = user.has_perm(transition.permission)
    before = _snapshot(claim)

    if allowed:
        attempt(claim, transition.name, people, actor=Actor.staff(user))
        claim.refresh_from_db()
        assert claim.stage == transition.target
    else:
        with pytest.raises(ClaimError) as refused:
            attempt(claim, transition.name, people, actor=Actor.staff(user))
        assert refused.value.code == "forbidden"
        assert _snapshot(claim) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "transition",
    [t for t in TRANSITIONS.values() if ActorKind.CLAIMANT in t.actors],
    ids=lambda t: t.name,
)
def test_claimant_moves_cannot_be_made_by_staff_or_for_another_claim(transition, people):
    source = sorted(transition.sources)[0]
    claim = claim_in_stage(source, people=people)
    other = claim_in_stage(Stage.DRAFT, people=people)
    superuser = staff(None, is_superuser=True)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as by_staff:
        attempt(claim, transition.name, people, actor=Actor.staff(superuser))
    with pytest.raises(ClaimError) as by_other:
        attempt(claim, transition.name, people, actor=Actor.claimant(other.pk))

    assert by_staff.value.code == "forbidden"
    assert by_other.value.code == "not_found"
    assert _snapshot(claim) == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["triage_start", "offer_approve", "payment_confirm"])
def test_claimant_cannot_make_staff_moves(name, people):
    source = sorted(TRANSITIONS[name].sources)[0]
    claim = claim_in_stage(source, people=people)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        attempt(claim, name, people, actor=Actor.claimant(claim.pk))

    assert refused.value.code == "forbidden"
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_inactive_staff_cannot_act_even_with_the_role(people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    people.caseworker.is_active = False
    people.caseworker.save()

    with pytest.raises(ClaimError) as refused:
        attempt(claim, "triage_start", people)

    assert refused.value.code == "forbidden"


@pytest.mark.django_db
def test_reason_is_required_where_the_rules_need_one(people):
    claim = claim_in_stage(Stage.TRIAGE, people=people)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        casework.claim_transition(
            claim_id=claim.pk,
            transition="triage_reject",
            actor=Actor.staff(people.caseworker),
            reason="   ",
        )

    assert refused.value.code == "reason_required"
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_a_stale_version_is_refused_instead_of_overwriting(people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    seen_version = claim.version
    casework.claim_assign(
        claim_id=claim.pk, actor=Actor.staff(people.senior), assignee=people.caseworker
    )
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        casework.claim_transition(
            claim_id=claim.pk,
            transition="triage_start",
            actor=Actor.staff(people.caseworker),
            expected_version=seen_version,
        )

    assert refused.value.code == "conflict"
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_information_request_and_answer_are_kept_as_messages_both_sides_see(people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)

    casework.claim_request_information(
        claim_id=claim.pk, actor=Actor.staff(people.caseworker), request="  Send the statement "
    )
    submission.claim_provide_information(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), response="Attached, thank you"
    )

    to_claimant, from_claimant = claim.messages.order_by("created_at", "id")
    assert (to_claimant.direction, to_claimant.body) == ("to_claimant", "Send the statement")
    assert to_claimant.author == people.caseworker
    assert to_claimant.event.action == "information_request"
    assert (from_claimant.direction, from_claimant.body) == ("from_claimant", "Attached, thank you")
    assert from_claimant.author is None
    assert from_claimant.event.action == "information_provide"
