"""Factories, and `claim_in_stage`, which takes a claim to any stage through the
real services so every test claim has a true history. The scheme and the path to
each stage are `claims.actions.demo`'s, shared with `manage.py load_demo`."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile

from claims import core
from claims.actions import casework, offers, submission
from claims.actions.demo import LARGE_LOSS as LARGE_LOSS  # re-exported for the tests
from claims.actions.demo import SMALL_LOSS as SMALL_LOSS
from claims.actions.demo import ClaimStaff, advance_claim_to, create_demo_scheme
from claims.actions.demo import assess_all as assess_all
from claims.actions.demo import take_step as take_step
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import Claim, Evidence, RegisterEntry, Scheme


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme

    @classmethod
    def _create(cls, model_class: type[Scheme], *args: Any, **kwargs: Any) -> Scheme:
        return create_demo_scheme(overrides=kwargs)

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


CLAIMANT: dict[str, Any] = {
    "full_name": "Zoë O'Brien",
    "email": "zoe@example.test",
    "postcode": "sw1a1aa",
}


def draft_claim(scheme: Scheme | None = None, **kwargs: Any) -> Claim:
    scheme = scheme or SchemeFactory()
    return submission.claim_start(scheme=scheme, **{**CLAIMANT, **kwargs})


def draft_with_a_loss(scheme: Scheme | None = None, amount: str = "25.00") -> Claim:
    """A draft ready to submit: one head of loss, bank charges of `amount`."""
    claim = draft_claim(scheme)
    submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=core.Actor.claimant(claim.pk),
        category="bank_charges",
        amount_claimed=amount,
    )
    return claim


class People(ClaimStaff):
    """The staff a claim's journey needs, made once per call of claim_in_stage."""

    def __init__(self) -> None:
        super().__init__(
            caseworker=staff(roles.CASEWORKER),
            senior=staff(roles.SENIOR_CASEWORKER),
            finance=staff(roles.FINANCE_OFFICER),
        )


def claim_in_stage(
    stage: Stage | str,
    *,
    scheme: Scheme | None = None,
    people: People | None = None,
    large: bool | None = None,
) -> Claim:
    """A claim taken to `stage` through the services, as real users would."""
    return advance_claim_to(
        stage,
        scheme=scheme or SchemeFactory(),
        staff=people or People(),
        claimant=CLAIMANT,
        large=large,
    )


def pdf_evidence(claim: Claim) -> Evidence:
    """One small PDF on `claim`, stored under MEDIA_ROOT (point that at a tmp_path)."""
    item = Evidence(
        claim=claim, original_name="statement.pdf", content_type="application/pdf",
        size=8, sha256="d" * 64,
    )  # fmt: skip
    item.file.save("ignored.pdf", ContentFile(b"%PDF-1.4"), save=True)
    return item


def large_offer_in_review(people: People) -> Claim:
    """A claim in review whose offer is above the threshold: assessed and proposed by the
    caseworker, approved by a senior of its own, declined and taken into review by
    `people.senior`, who had no hand in it."""
    claim = claim_in_stage(Stage.OFFER_PENDING_APPROVAL, people=people)
    offers.offer_approve(claim_id=claim.pk, actor=core.Actor.staff(staff(roles.SENIOR_CASEWORKER)))
    offers.offer_decline(claim_id=claim.pk, actor=core.Actor.claimant(claim.pk), reason="Too low")
    casework.claim_transition(
        claim_id=claim.pk, transition="review_start", actor=core.Actor.staff(people.senior)
    )
    claim.refresh_from_db()
    return claim


def revise_above_threshold(claim: Claim, reviewer: User | None = None) -> Claim:
    """The review of `claim` (from large_offer_in_review) revises its offer, still above
    the threshold: it waits for approval."""
    reviewer = reviewer or staff(roles.SENIOR_CASEWORKER)
    offers.review_revise(
        claim_id=claim.pk, actor=core.Actor.staff(reviewer), reason="Charges evidenced"
    )
    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_PENDING_APPROVAL
    return claim
