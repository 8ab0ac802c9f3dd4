"""Factories, and `claim_in_stage`, which takes a claim to any stage through the
real services so every test claim has a true history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from claims import roles, services
from claims.demo import DISTRESS_BANDS, demo_scheme_fields
from claims.models import Claim, DistressBand, HeadOfLoss, RegisterEntry, Scheme, Stage
from claims.services import Actor


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme

    @classmethod
    def _create(cls, model_class: type[Scheme], *args: Any, **kwargs: Any) -> Scheme:
        fields = demo_scheme_fields(timezone.localdate() - dt.timedelta(days=30))
        fields.update(kwargs)
        scheme = model_class.objects.create(**fields)
        DistressBand.objects.bulk_create(
            DistressBand(scheme=scheme, name=n, description=d, lower=lo, upper=up, position=i)
            for i, (n, d, lo, up) in enumerate(DISTRESS_BANDS)
        )
        return scheme

    slug = factory.Sequence(lambda n: f"scheme-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@redress.test")
    is_staff = True

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))


def staff(role: str, **kwargs: Any) -> User:
    return UserFactory(role=role, **kwargs)


class RegisterEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegisterEntry

    scheme = factory.SubFactory(SchemeFactory)
    notice_code = factory.Sequence(lambda n: f"AAAA-BBBB-{n:04d}")
    full_name = factory.Faker("name", locale="en_GB")
    email = factory.Sequence(lambda n: f"person{n}@example.test")
    postcode = "SW1A 1AA"


def draft_claim(scheme: Scheme | None = None, **kwargs: Any) -> Claim:
    scheme = scheme or SchemeFactory()
    fields: dict[str, Any] = {
        "full_name": "Zoë O'Brien",
        "email": "zoe@example.test",
        "postcode": "sw1a1aa",
    }
    fields.update(kwargs)
    return services.claim_start(scheme=scheme, **fields)


class People:
    """The staff a claim's journey needs, made once per call of claim_in_stage."""

    def __init__(self) -> None:
        self.caseworker = staff(roles.CASEWORKER)
        self.senior = staff(roles.SENIOR_CASEWORKER)
        self.finance = staff(roles.FINANCE_OFFICER)


# The path to each stage: a stage is reached from the one before it by one step.
_PATH: dict[Stage, tuple[Stage | None, str]] = {
    Stage.DRAFT: (None, "start"),
    Stage.SUBMITTED: (Stage.DRAFT, "submit"),
    Stage.TRIAGE: (Stage.SUBMITTED, "triage_start"),
    Stage.REJECTED: (Stage.TRIAGE, "triage_reject"),
    Stage.ASSESSMENT: (Stage.TRIAGE, "triage_accept"),
    Stage.INFORMATION_REQUESTED: (Stage.ASSESSMENT, "information_request"),
    Stage.CLOSED_INCOMPLETE: (Stage.INFORMATION_REQUESTED, "close_incomplete"),
    Stage.OFFER_PENDING_APPROVAL: (Stage.ASSESSMENT, "offer_propose"),
    Stage.OFFER_MADE: (Stage.ASSESSMENT, "offer_make"),
    Stage.ACCEPTED: (Stage.OFFER_MADE, "offer_accept"),
    Stage.PAYMENT_PENDING: (Stage.ACCEPTED, "payment_queue"),
    Stage.PAID: (Stage.PAYMENT_PENDING, "payment_confirm"),
    Stage.CLOSED: (Stage.PAID, "close"),
    Stage.DECLINED: (Stage.OFFER_MADE, "offer_decline"),
    Stage.REVIEW: (Stage.DECLINED, "review_start"),
    Stage.OFFER_EXPIRED: (Stage.OFFER_MADE, "offer_expire"),
    Stage.WITHDRAWN: (Stage.DRAFT, "withdraw"),
}

SMALL_LOSS = Decimal("35.00")  # at or below the demo four-eyes threshold
LARGE_LOSS = Decimal("1800.00")  # above it


def claim_in_stage(
    stage: Stage | str,
    *,
    scheme: Scheme | None = None,
    people: People | None = None,
    large: bool | None = None,
) -> Claim:
    """A claim taken to `stage` through the services, as real users would."""
    stage = Stage(stage)
    people = people or People()
    if large is None:
        large = stage == Stage.OFFER_PENDING_APPROVAL
    previous, step = _PATH[stage]
    if previous is None:
        claim = draft_claim(scheme)
        services.head_of_loss_add(
            claim_id=claim.pk,
            actor=Actor.claimant(claim.pk),
            category=HeadOfLoss.Category.UNAUTHORISED_TRANSACTIONS,
            amount_claimed=LARGE_LOSS if large else SMALL_LOSS,
            description="Two payments I did not make",
            incurred_on=dt.date(2017, 3, 14),
        )
        return Claim.objects.get(pk=claim.pk)
    claim = claim_in_stage(previous, scheme=scheme, people=people, large=large)
    take_step(claim, step, people)
    return Claim.objects.get(pk=claim.pk)


def assess_all(claim: Claim, user: User) -> None:
    for head in claim.heads_of_loss.all():
        services.head_of_loss_assess(
            head_id=head.pk, actor=Actor.staff(user), amount_allowed=head.amount_claimed
        )


def take_step(claim: Claim, step: str, people: People) -> None:
    pk, cw, senior = claim.pk, Actor.staff(people.caseworker), Actor.staff(people.senior)
    far_future = timezone.localdate() + dt.timedelta(days=400)
    if step == "submit":
        services.claim_submit(claim_id=pk, actor=Actor.claimant(pk), statement_of_truth=True)
    elif step in {"triage_start", "triage_accept"}:
        services.claim_transition(claim_id=pk, transition=step, actor=cw)
    elif step == "triage_reject":
        services.claim_transition(
            claim_id=pk, transition=step, actor=cw, reason="Not a Debenhams Flowers customer"
        )
    elif step == "information_request":
        services.claim_request_information(
            claim_id=pk, actor=cw, request="Please send the bank statement for March 2017."
        )
    elif step == "close_incomplete":
        services.claim_close_incomplete(claim_id=pk, actor=Actor.system(), today=far_future)
    elif step in {"offer_propose", "offer_make"}:
        assess_all(claim, people.caseworker)
        services.offer_propose(claim_id=pk, actor=cw)
    elif step == "offer_accept":
        services.offer_accept(claim_id=pk, actor=Actor.claimant(pk))
    elif step == "offer_decline":
        services.offer_decline(claim_id=pk, actor=Actor.claimant(pk), reason="Too low")
    elif step == "offer_expire":
        services.offer_expire(claim_id=pk, actor=Actor.system(), today=far_future)
    elif step == "review_start":
        services.claim_transition(claim_id=pk, transition=step, actor=senior)
    elif step in {"payment_queue", "payment_confirm", "close"}:
        services.claim_transition(
            claim_id=pk, transition=step, actor=Actor.staff(people.finance)
        )
    elif step == "withdraw":
        services.claim_withdraw(claim_id=pk, actor=Actor.claimant(pk), reason="Changed my mind")
    else:  # pragma: no cover - a new stage without a path is a test bug
        raise AssertionError(f"no step {step}")
