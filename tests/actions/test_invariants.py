"""The rules of a money decision hold whatever staff and claimants do, in any order.

A hypothesis state machine drives random sequences of the real services on two claims
of one scheme: triage, assess, request information, propose, approve, return, answer an
offer whole or in part, decline, review, revise, approve a revision, pay, ask for a
rejection to be reviewed. Its staff are small pools (two caseworkers, three senior
caseworkers), so the same person often tries to act twice. After every step it checks,
from the database alone:

- no offer above the threshold is visible to the claimant without an approver who
  neither assessed nor proposed it;
- nobody decided a review of an offer they assessed, proposed or approved, or of a
  rejection they made;
- every amount allowed or offered is inside its band, under its cap, and no more than
  was claimed;
- every stage change has its audit event and its queued status update;
- money adds up: each offer's total is the sum of its items, each payment the sum of its
  offer's accepted items, and what is paid or being paid for a claim never exceeds what
  its claimant accepted.

At the end it asserts that each kind of refusal (four eyes, independence, band, cap) was
met, so it cannot pass by never trying, and prints how often.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from claims.actions import casework, offers, payments, reviews, submission
from claims.actions.reviews import ItemAnswer
from claims.core import Actor, ClaimError
from claims.domain import roles
from claims.domain.stages import TERMINAL_STAGES, ItemResponse, ReviewState, Stage
from claims.models import (
    AuditEvent,
    BankDetails,
    Claim,
    DistressBand,
    HeadOfLoss,
    Offer,
    OfferItem,
    Payment,
    Review,
    StatusUpdate,
)
from tests.support.factories import SchemeFactory, staff

C = HeadOfLoss.Category
REFUSALS: Counter[str] = Counter()
# What each of the two claims is for: a large loss (its offers need approval), time spent
# over the lower cap, and distress; a small loss and distress.
CLAIMS: list[list[tuple[str, str, str | None]]] = [
    [
        (C.UNAUTHORISED_TRANSACTIONS, "1200.00", None),
        (C.TIME_SPENT, "", "12"),
        (C.DISTRESS, "", None),
    ],
    [(C.BANK_CHARGES, "40.00", None), (C.DISTRESS, "", None)],
]
DISTRESS_AMOUNTS = ["100.00", "250.00", "400.00", "800.00", "1500.00", "5000.01", "40000.00"]
STAFF = st.integers(min_value=0, max_value=4)  # two caseworkers, then three seniors
SENIOR = st.integers(min_value=0, max_value=2)
CLAIM = st.integers(min_value=0, max_value=5)


def kind_of(refusal: ClaimError) -> str:
    if refusal.code == "four_eyes":
        independence = ("under review", "rejected this claim")
        return "independence" if any(p in refusal.message for p in independence) else "four_eyes"
    return {"outside_band": "band", "above_cap": "cap"}.get(refusal.code, refusal.code)


def shapers(offer: Offer) -> set[int]:
    return {offer.proposed_by_id} | {
        i.assessed_by_id for i in offer.items.all() if i.assessed_by_id
    }


def deciders(offer: Offer) -> set[int]:
    return shapers(offer) | ({offer.approved_by_id} if offer.approved_by_id else set())


def within_rules(
    category: str,
    amount: Decimal,
    claimed: Decimal,
    hours: Decimal | None,
    band: DistressBand | None,
    scheme: Any,
) -> bool:
    """The rule for one amount, written out again here rather than borrowed from
    claims.core, so the test and the code can disagree. The claims have no evidence."""
    if category == C.DISTRESS:
        return (
            band is not None
            and band.lower <= amount
            and (band.upper is None or amount <= band.upper)
        )
    if category == C.TIME_SPENT and hours is not None:
        return amount <= min(hours, scheme.lost_time_hours_cap) * scheme.lost_time_hourly_rate
    return amount <= claimed


class Casework(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each run of the machine in a transaction of its own, rolled back at teardown.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.scheme = SchemeFactory()
        self.bands = list(self.scheme.distress_bands.order_by("lower"))
        self.caseworkers = [staff(roles.CASEWORKER) for _ in range(2)]
        self.seniors = [staff(roles.SENIOR_CASEWORKER) for _ in range(3)]
        self.finance = staff(roles.FINANCE_OFFICER)
        self.claim_ids = [self._submitted(heads, n) for n, heads in enumerate(CLAIMS)]
        # Audit events are append-only: each is checked once, after the step that wrote it.
        self.checked_event_id = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _submitted(self, heads: list[tuple[str, str, str | None]], n: int) -> int:
        claim = submission.claim_start(
            scheme=self.scheme, full_name=f"Claimant {n}", email=f"claimant{n}@example.test"
        )
        me = Actor.claimant(claim.pk)
        for category, amount, hours in heads:
            if category == C.DISTRESS:
                submission.distress_set(
                    claim_id=claim.pk, actor=me, affected=True, effects=[], account="Anxious."
                )
            else:
                submission.head_of_loss_add(
                    claim_id=claim.pk,
                    actor=me,
                    category=category,
                    amount_claimed=amount,
                    hours=hours,
                )
        submission.claim_submit(claim_id=claim.pk, actor=me, statement_of_truth=True)
        return claim.pk

    # --- Helpers ---------------------------------------------------------------------

    def _try(self, action: Callable[[], Any]) -> bool:
        try:
            action()
        except ClaimError as refusal:
            REFUSALS[kind_of(refusal)] += 1
            return False
        REFUSALS["done"] += 1
        return True

    def claim(self, i: int) -> Claim:
        return Claim.objects.get(pk=self.claim_ids[i])

    def pick(self, i: int, *stages: str) -> int:
        """The index of a claim in one of `stages` (the rule's precondition found one)."""
        found = [n for n, pk in enumerate(self.claim_ids) if self.claim(n).stage in stages]
        return found[i % len(found)] if found else i % len(self.claim_ids)

    def fully_assessed(self) -> list[int]:
        """Claims in assessment whose every head is assessed: ready for an offer."""
        return [
            n
            for n, pk in enumerate(self.claim_ids)
            if self.claim(n).stage == Stage.ASSESSMENT
            and not HeadOfLoss.objects.filter(claim_id=pk, amount_allowed__isnull=True).exists()
        ]

    def never_asked(self) -> list[int]:
        """Claims in assessment that have not been asked for information yet: once is
        enough to try the cure window's moves, and keeps runs from going round it."""
        return [
            n
            for n, pk in enumerate(self.claim_ids)
            if self.claim(n).stage == Stage.ASSESSMENT
            and not AuditEvent.objects.filter(claim_id=pk, action="information_request").exists()
        ]

    def never_sent_back(self) -> list[int]:
        """Offers waiting for approval on claims none of whose offers was sent back: once
        is enough, and keeps runs from going round it."""
        return [
            n
            for n, pk in enumerate(self.claim_ids)
            if self.claim(n).stage == Stage.OFFER_PENDING_APPROVAL
            and not AuditEvent.objects.filter(
                claim_id=pk, action__in=["offer_return", "review_return"]
            ).exists()
        ]

    def open_claims(self) -> int:
        ended = {*TERMINAL_STAGES, Stage.PAID}
        return Claim.objects.filter(pk__in=self.claim_ids).exclude(stage__in=ended).count()

    def has(self, *stages: str) -> bool:
        return Claim.objects.filter(pk__in=self.claim_ids, stage__in=stages).exists()

    def has_review(self, state: str) -> bool:
        return Review.objects.filter(claim_id__in=self.claim_ids, state=state).exists()

    def person(self, who: int) -> Actor:
        return Actor.staff((self.caseworkers + self.seniors)[who])

    def senior(self, who: int) -> Actor:
        return Actor.staff(self.seniors[who])

    def version(self, i: int) -> int:
        return self.claim(i).version

    def review(self, i: int, *states: str) -> Review | None:
        """A review in one of `states` of any of the claims (the precondition found one)."""
        found = list(
            Review.objects.filter(claim_id__in=self.claim_ids, state__in=states).order_by("id")
        )
        return found[i % len(found)] if found else None

    # --- Claims come and go ----------------------------------------------------------

    @initialize(offered=st.booleans(), assessor=STAFF, proposer=STAFF)
    def perhaps_an_offer_already(self, offered: bool, assessor: int, proposer: int) -> None:
        """Half the runs start with the small claim's offer made, by staff drawn from the
        pools, so the later routes (part acceptance, its review) are reached often."""
        if not offered:
            return
        pk = self.claim_ids[1]
        for step in ("triage_start", "triage_accept"):
            casework.claim_transition(claim_id=pk, transition=step, actor=self.person(assessor))
        for head in HeadOfLoss.objects.filter(claim_id=pk):
            distress = head.category == C.DISTRESS
            casework.head_of_loss_assess(
                head_id=head.pk,
                actor=self.person(assessor),
                amount_allowed="100.00" if distress else head.amount_claimed,
                reason="Minimal." if distress else "",
                distress_band_id=self.bands[0].pk if distress else None,
            )
        offers.offer_propose(claim_id=pk, actor=self.person(proposer))

    @precondition(lambda self: self.open_claims() < 2)
    @rule(small=st.booleans())
    def another_claim(self, small: bool) -> None:
        """A new claim, so a run whose claims have ended can go on."""
        self.claim_ids.append(self._submitted(CLAIMS[small], len(self.claim_ids)))

    # --- Staff -------------------------------------------------------------------------

    @precondition(lambda self: self.has(Stage.SUBMITTED, Stage.TRIAGE))
    @rule(i=CLAIM, who=STAFF, reject=st.integers(0, 3))
    def triage(self, i: int, who: int, reject: int) -> None:
        """Accept three times in four, so most claims go on to be assessed."""
        i = self.pick(i, Stage.SUBMITTED, Stage.TRIAGE)
        actor, pk = self.person(who), self.claim_ids[i]
        if self.claim(i).stage == Stage.SUBMITTED:
            self._try(
                lambda: casework.claim_transition(
                    claim_id=pk, transition="triage_start", actor=actor
                )
            )
        name = "triage_reject" if reject == 0 else "triage_accept"
        self._try(
            lambda: casework.claim_transition(
                claim_id=pk, transition=name, actor=actor, reason="Not on the register"
            )
        )

    @precondition(lambda self: self.has(Stage.ASSESSMENT, Stage.REVIEW))
    @rule(
        i=CLAIM, who=STAFF, head=st.integers(0, 2), pick=st.integers(0, 6), band=st.integers(0, 4)
    )
    def assess(self, i: int, who: int, head: int, pick: int, band: int) -> None:
        i = self.pick(i, Stage.ASSESSMENT, Stage.REVIEW)
        heads = list(self.claim(i).heads_of_loss.order_by("id"))
        target = heads[head % len(heads)]
        # Mostly amounts the rules allow, so claims move on; some just outside them.
        chosen = self.bands[band]
        if target.category == C.DISTRESS:
            upper = chosen.upper if chosen.upper is not None else chosen.lower + 1000
            below = chosen.lower - Decimal("0.01") if chosen.lower else upper + 1
            amount = str(
                [chosen.lower, upper, upper, chosen.lower, upper + Decimal("0.01"), below, upper][
                    pick
                ]
            )
        elif target.category == C.TIME_SPENT:
            amount = ["100.00", "250.00", "250.00", "250.01", "300.00", "50.00", "200.00"][pick]
        else:
            claimed = target.amount_claimed
            amount = str([claimed, claimed / 2, claimed, claimed + Decimal("0.01")][pick % 4])
        self._try(
            lambda: casework.head_of_loss_assess(
                head_id=target.pk,
                actor=self.person(who),
                amount_allowed=amount,
                reason="As the evidence shows.",
                distress_band_id=chosen.pk,
            )
        )

    @precondition(lambda self: bool(self.never_asked()))
    @rule(i=CLAIM, who=STAFF)
    def request_information(self, i: int, who: int) -> None:
        asked = self.never_asked()
        i = asked[i % len(asked)]
        pk = self.claim_ids[i]
        self._try(
            lambda: casework.claim_request_information(
                claim_id=pk, actor=self.person(who), request="Send the statement."
            )
        )

    @precondition(lambda self: bool(self.fully_assessed()))
    @rule(i=CLAIM, who=STAFF)
    def propose(self, i: int, who: int) -> None:
        ready = self.fully_assessed()
        i = ready[i % len(ready)]
        self._try(lambda: offers.offer_propose(claim_id=self.claim_ids[i], actor=self.person(who)))

    @precondition(lambda self: self.has(Stage.OFFER_PENDING_APPROVAL))
    @rule(i=CLAIM, who=STAFF)
    def approve(self, i: int, who: int) -> None:
        i = self.pick(i, Stage.OFFER_PENDING_APPROVAL)
        self._try(lambda: offers.offer_approve(claim_id=self.claim_ids[i], actor=self.person(who)))

    @precondition(lambda self: bool(self.never_sent_back()))
    @rule(i=CLAIM, who=SENIOR)
    def send_back(self, i: int, who: int) -> None:
        waiting = self.never_sent_back()
        i = waiting[i % len(waiting)]
        self._try(
            lambda: offers.offer_return(
                claim_id=self.claim_ids[i], actor=self.senior(who), reason="Look again."
            )
        )

    @precondition(lambda self: self.has(Stage.DECLINED))
    @rule(i=CLAIM, who=SENIOR)
    def start_review(self, i: int, who: int) -> None:
        i = self.pick(i, Stage.DECLINED)
        self._try(
            lambda: casework.claim_transition(
                claim_id=self.claim_ids[i], transition="review_start", actor=self.senior(who)
            )
        )

    @precondition(lambda self: self.has(Stage.REVIEW))
    @rule(i=CLAIM, who=SENIOR, revise=st.booleans())
    def decide_review(self, i: int, who: int, revise: bool) -> None:
        i = self.pick(i, Stage.REVIEW)
        decide = offers.review_revise if revise else offers.review_uphold
        self._try(
            lambda: decide(claim_id=self.claim_ids[i], actor=self.senior(who), reason="Decided.")
        )

    @precondition(lambda self: self.has_review(ReviewState.OPEN))
    @rule(i=CLAIM, who=SENIOR, revise=st.booleans(), pick=st.integers(0, 6), band=st.integers(0, 5))
    def decide_part_review(self, i: int, who: int, revise: bool, pick: int, band: int) -> None:
        review = self.review(i, ReviewState.OPEN)
        if review is None:
            return
        if not revise:
            self._try(
                lambda: reviews.part_review_uphold(
                    review_id=review.pk, actor=self.senior(who), reason="Stands."
                )
            )
            return
        amounts, bands = {}, {}
        for item in review.disputed_items():
            if item.category == C.DISTRESS:
                amounts[item.pk] = DISTRESS_AMOUNTS[pick]
                if band < len(self.bands):
                    bands[item.pk] = self.bands[band].pk
            else:
                choices = [item.amount_offered + Decimal(10), item.amount_claimed, Decimal("40000")]
                amounts[item.pk] = str(choices[pick % 3])
        self._try(
            lambda: reviews.part_review_revise(
                review_id=review.pk,
                actor=self.senior(who),
                reason="Revised.",
                amounts=amounts,
                bands=bands,
            )
        )

    @precondition(lambda self: self.has_review(ReviewState.PENDING_APPROVAL))
    @rule(i=CLAIM, who=STAFF, approve=st.booleans())
    def decide_part_proposal(self, i: int, who: int, approve: bool) -> None:
        review = self.review(i, ReviewState.PENDING_APPROVAL)
        if review is None:
            return
        if approve:
            self._try(
                lambda: reviews.part_review_approve(review_id=review.pk, actor=self.person(who))
            )
        else:
            self._try(
                lambda: reviews.part_review_return(
                    review_id=review.pk, actor=self.person(who), reason="Not convinced."
                )
            )

    @precondition(lambda self: self.has(Stage.REJECTION_REVIEW))
    @rule(i=CLAIM, who=SENIOR, reopen=st.booleans())
    def decide_rejection_review(self, i: int, who: int, reopen: bool) -> None:
        i = self.pick(i, Stage.REJECTION_REVIEW)
        self._try(
            lambda: casework.rejection_review_decide(
                claim_id=self.claim_ids[i],
                actor=self.senior(who),
                decision="reopen" if reopen else "uphold",
                reason="Looked again.",
            )
        )

    @precondition(lambda self: self.has(Stage.ACCEPTED, Stage.PAYMENT_PENDING))
    @rule(i=CLAIM)
    def pay(self, i: int) -> None:
        i = self.pick(i, Stage.ACCEPTED, Stage.PAYMENT_PENDING)
        claim = self.claim(i)
        finance = Actor.staff(self.finance)
        if claim.stage == Stage.PAYMENT_PENDING:
            pending = Payment.objects.get(claim=claim, state=Payment.State.PENDING)
            self._try(lambda: payments.payment_mark_paid(payment_id=pending.pk, actor=finance))
            return
        if not BankDetails.objects.filter(claim=claim).exists():
            submission.bank_details_set(
                claim_id=claim.pk,
                actor=Actor.claimant(claim.pk),
                account_name=claim.full_name,
                sort_code="309457",
                account_number=f"{10_000_000 + claim.pk:08d}",
            )
        if self._try(
            lambda: payments.payment_batch_build(
                scheme_id=self.scheme.pk, actor=finance, claim_ids=[claim.pk]
            )
        ):
            pending = Payment.objects.get(claim=claim, state=Payment.State.PENDING)
            self._try(lambda: payments.payment_mark_paid(payment_id=pending.pk, actor=finance))

    # --- The claimant ---------------------------------------------------------------

    @precondition(lambda self: self.has(Stage.INFORMATION_REQUESTED))
    @rule(i=CLAIM)
    def provide_information(self, i: int) -> None:
        i = self.pick(i, Stage.INFORMATION_REQUESTED)
        pk = self.claim_ids[i]
        self._try(
            lambda: submission.claim_provide_information(
                claim_id=pk, actor=Actor.claimant(pk), response="Attached."
            )
        )

    @precondition(lambda self: self.has(Stage.OFFER_MADE))
    @rule(i=CLAIM, mask=st.integers(0, 7))
    def answer_offer(self, i: int, mask: int) -> None:
        """Accept the items whose bit is set in `mask`, dispute the rest: all, none or part."""
        i = self.pick(i, Stage.OFFER_MADE)
        claim = self.claim(i)
        if claim.stage != Stage.OFFER_MADE:
            return
        offer = claim.offers.order_by("-version").first()
        assert offer is not None
        items = list(offer.items.order_by("id"))
        answers = {
            item.pk: ItemAnswer(accept=bool(mask >> n & 1), reason="" if mask >> n & 1 else "Low")
            for n, item in enumerate(items)
        }
        self._try(
            lambda: reviews.offer_respond(
                claim_id=claim.pk,
                actor=Actor.claimant(claim.pk),
                offer_id=offer.pk,
                answers=answers,
            )
        )

    @precondition(lambda self: self.has_review(ReviewState.REVISED))
    @rule(i=CLAIM, accept=st.booleans())
    def answer_revised_offer(self, i: int, accept: bool) -> None:
        review = self.review(i, ReviewState.REVISED)
        if review is None or review.revised_offer_id is None:
            return
        pk, me = review.claim_id, Actor.claimant(review.claim_id)
        if accept:
            self._try(
                lambda: reviews.revised_offer_accept(
                    claim_id=pk, actor=me, offer_id=review.revised_offer_id
                )
            )
        else:
            self._try(
                lambda: reviews.revised_offer_decline(
                    claim_id=pk, actor=me, offer_id=review.revised_offer_id, reason="Still low."
                )
            )

    @precondition(lambda self: self.has(Stage.REJECTED))
    @rule(i=CLAIM)
    def ask_for_rejection_review(self, i: int) -> None:
        i = self.pick(i, Stage.REJECTED)
        pk = self.claim_ids[i]
        self._try(
            lambda: casework.rejection_review_request(
                claim_id=pk, actor=Actor.claimant(pk), reason="I was a customer."
            )
        )

    # --- What must always hold ------------------------------------------------------

    @invariant()
    def offers_above_the_threshold_have_an_independent_approver(self) -> None:
        """A revised offer for a disputed part is judged with what was accepted before it:
        answering in part must not take an offer under the threshold."""
        threshold = self.scheme.offer_approval_threshold
        for offer in Offer.objects.filter(claim__scheme=self.scheme, made_at__isnull=False):
            total = offer.total
            if Review.objects.filter(revised_offer=offer).exists():
                earlier = Offer.objects.filter(claim_id=offer.claim_id, version__lt=offer.version)
                total += sum(
                    (
                        item.amount_offered
                        for item in OfferItem.objects.filter(
                            offer__in=earlier, response=ItemResponse.ACCEPTED
                        )
                    ),
                    Decimal("0.00"),
                )
            if total > threshold:
                assert offer.approved_by_id is not None, offer
                assert offer.approved_by_id not in shapers(offer), offer

    @invariant()
    def nobody_decides_a_review_of_their_own_decision(self) -> None:
        events = AuditEvent.objects.filter(claim__scheme=self.scheme).order_by("created_at", "id")
        for event in events.filter(id__gt=self.checked_event_id):
            self.checked_event_id = max(self.checked_event_id, event.pk)
            data = event.data or {}
            if event.action in {
                "review_revise",
                "review_propose",
                "review_uphold",
                "review_approve",
            }:
                made = Offer.objects.filter(claim_id=event.claim_id, made_at__lte=event.created_at)
                if "offer_version" in data:
                    made = made.filter(version__lt=data["offer_version"])
                under_review = made.order_by("-version").first()
                assert under_review is not None
                assert event.actor_id not in deciders(under_review), event
            elif event.action in {
                "part_review_revise",
                "part_review_propose",
                "part_review_uphold",
                "part_review_approve",
            }:
                review = Review.objects.get(pk=data["review"])
                assert event.actor_id not in deciders(review.offer), event
            elif event.action in {"rejection_review_uphold", "rejection_review_reopen"}:
                rejecters = events.filter(
                    claim_id=event.claim_id, action="triage_reject", id__lt=event.id
                ).values_list("actor_id", flat=True)
                assert rejecters and event.actor_id not in set(rejecters), event
            elif event.action == "assess_head":
                # Re-assessing in a review decides it: not by anyone who shaped the offer.
                stage = (
                    events.filter(claim_id=event.claim_id, id__lt=event.id)
                    .exclude(to_stage="")
                    .order_by("-id")
                    .values_list("to_stage", flat=True)
                    .first()
                )
                if stage == Stage.REVIEW:
                    under_review = (
                        Offer.objects.filter(claim_id=event.claim_id, made_at__lte=event.created_at)
                        .order_by("-version")
                        .first()
                    )
                    assert under_review is not None
                    assert event.actor_id not in deciders(under_review), event

    @invariant()
    def every_amount_is_inside_its_band_and_under_its_cap(self) -> None:
        for head in HeadOfLoss.objects.filter(
            claim__scheme=self.scheme, amount_allowed__isnull=False
        ).select_related("distress_band"):
            assert head.amount_allowed is not None
            assert within_rules(
                head.category,
                head.amount_allowed,
                head.amount_claimed,
                head.hours,
                head.distress_band,
                self.scheme,
            ), head
        for offer in Offer.objects.filter(claim__scheme=self.scheme).prefetch_related(
            "items__head_of_loss", "items__distress_band"
        ):
            for item in offer.items.all():
                assert within_rules(
                    item.category,
                    item.amount_offered,
                    item.amount_claimed,
                    item.head_of_loss.hours,
                    item.distress_band,
                    self.scheme,
                ), item

    @invariant()
    def every_stage_change_has_its_event_and_status_update(self) -> None:
        for claim in Claim.objects.filter(scheme=self.scheme):
            moves = list(
                claim.events.exclude(from_stage="")
                .exclude(to_stage="")
                .order_by("created_at", "id")
            )
            assert moves, claim
            assert claim.stage == moves[-1].to_stage
            for earlier, later in itertools.pairwise(moves):
                assert later.from_stage == earlier.to_stage, later
            told = set(StatusUpdate.objects.filter(claim=claim).values_list("event_id", flat=True))
            assert {move.pk for move in moves} <= told

    @invariant()
    def money_adds_up(self) -> None:
        for claim in Claim.objects.filter(scheme=self.scheme):
            accepted = Decimal("0.00")
            for offer in claim.offers.prefetch_related("items"):
                items = list(offer.items.all())
                assert offer.total == sum((i.amount_offered for i in items), Decimal("0.00"))
                accepted += sum(
                    (i.amount_offered for i in items if i.response == ItemResponse.ACCEPTED),
                    Decimal("0.00"),
                )
            paying = Decimal("0.00")
            for payment in claim.payments.exclude(state=Payment.State.FAILED):
                offer_items = payment.offer.items.all()
                assert payment.amount == sum(
                    (i.amount_offered for i in offer_items if i.response == ItemResponse.ACCEPTED),
                    Decimal("0.00"),
                )
                paying += payment.amount
            assert paying <= accepted, claim


@pytest.mark.django_db
def test_the_rules_of_a_money_decision_hold_whatever_happens(record_property: Any) -> None:
    REFUSALS.clear()
    run_state_machine_as_test(
        Casework,
        settings=settings(
            max_examples=15,
            stateful_step_count=50,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # Printed at the end of the run (tests/conftest.py), from whichever worker ran it.
    record_property("invariant_refusals", dict(sorted(REFUSALS.items())))
    for kind in ("four_eyes", "independence", "band", "cap"):
        assert REFUSALS[kind] > 0, (kind, REFUSALS)
