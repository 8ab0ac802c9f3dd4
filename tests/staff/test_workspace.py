"""The caseworker workspace: each role sees and may do exactly what DESIGN.md grants,
every change goes through a service with the page's version, and a stale page is
told so instead of overwriting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.actions import casework
from claims.core import Actor
from claims.domain import roles
from claims.domain.stages import ActorKind, ItemResponse, Stage
from claims.models import (
    AuditEvent,
    Claim,
    ClaimFlag,
    Evidence,
    HeadOfLoss,
    InternalNote,
    Message,
    Offer,
    OfferItem,
)
from claims.queries.claim_page import TIMELINE_EVENTS
from tests.support.factories import (
    LARGE_LOSS,
    People,
    SchemeFactory,
    assess_all,
    claim_in_stage,
    staff,
)

pytestmark = pytest.mark.django_db

CLAIMS_LIST = reverse("admin:claims_claim_changelist")


def page_url(claim: Claim) -> str:
    return reverse("admin:claims_claim_change", args=[claim.pk])


def transition(client, claim: Claim, name: str, reason: str = "", version: int | None = None):
    return client.post(
        reverse("admin:claims_claim_transition", args=[claim.pk]),
        {
            "transition": name,
            "reason": reason,
            "version": claim.version if version is None else version,
        },
    )


def buttons(response) -> set[str]:
    return {action.name for action in response.context["page"].actions}


def flash(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


# --- who may do what ----------------------------------------------------------------

EXPECTED_BUTTONS = {
    # stage: {role: buttons}
    Stage.SUBMITTED: {
        roles.CASEWORKER: {"triage_start"},
        roles.SENIOR_CASEWORKER: {"triage_start"},
        roles.FINANCE_OFFICER: set(),
        roles.SCHEME_ADMINISTRATOR: set(),
    },
    Stage.TRIAGE: {
        roles.CASEWORKER: {"triage_accept", "triage_reject"},
        roles.SENIOR_CASEWORKER: {"triage_accept", "triage_reject"},
        roles.FINANCE_OFFICER: set(),
        roles.SCHEME_ADMINISTRATOR: set(),
    },
    Stage.ASSESSMENT: {
        roles.CASEWORKER: {"information_request", "offer_propose"},
        roles.SENIOR_CASEWORKER: {"information_request", "offer_propose"},
        roles.FINANCE_OFFICER: set(),
        roles.SCHEME_ADMINISTRATOR: set(),
    },
    Stage.OFFER_PENDING_APPROVAL: {
        roles.CASEWORKER: set(),
        roles.SENIOR_CASEWORKER: {"offer_approve", "offer_return"},
        roles.FINANCE_OFFICER: set(),
        roles.SCHEME_ADMINISTRATOR: set(),
    },
    Stage.DECLINED: {
        roles.CASEWORKER: set(),
        roles.SENIOR_CASEWORKER: {"review_start"},
        roles.FINANCE_OFFICER: set(),
        roles.SCHEME_ADMINISTRATOR: set(),
    },
    Stage.ACCEPTED: {
        roles.CASEWORKER: set(),
        roles.SENIOR_CASEWORKER: set(),
        # Payments are made from a payment batch, not by a button on the claim.
        roles.FINANCE_OFFICER: set(),
        roles.SCHEME_ADMINISTRATOR: set(),
    },
    Stage.PAYMENT_PENDING: {
        roles.CASEWORKER: set(),
        roles.SENIOR_CASEWORKER: set(),
        roles.FINANCE_OFFICER: set(),
        roles.SCHEME_ADMINISTRATOR: set(),
    },
}


@pytest.mark.parametrize("stage", list(EXPECTED_BUTTONS))
def test_each_role_sees_a_button_for_exactly_the_moves_it_may_make(client, stage):
    claim = claim_in_stage(stage)
    for role, expected in EXPECTED_BUTTONS[stage].items():
        client.force_login(staff(role))
        response = client.get(page_url(claim))
        assert response.status_code == 200, role
        assert buttons(response) == expected, (stage, role)


# Sections of the claim page and who sees them (DESIGN.md's roles, as groups).
SECTIONS = {
    "heads-heading": {roles.CASEWORKER, roles.SENIOR_CASEWORKER},
    "notes-heading": {roles.CASEWORKER, roles.SENIOR_CASEWORKER},
    "messages-heading": {roles.CASEWORKER, roles.SENIOR_CASEWORKER},
    "offers-heading": {roles.CASEWORKER, roles.SENIOR_CASEWORKER, roles.FINANCE_OFFICER},
    "timeline-heading": {roles.CASEWORKER, roles.SENIOR_CASEWORKER, roles.FINANCE_OFFICER},
    "submission-heading": set(roles.ROLES),
}


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_sees_exactly_its_sections_of_the_claim_page(client, role):
    claim = claim_in_stage(Stage.OFFER_MADE)
    client.force_login(staff(role))

    page = client.get(page_url(claim)).content.decode()

    for section, who in SECTIONS.items():
        assert (f'id="{section}"' in page) == (role in who), (role, section)


@pytest.mark.parametrize("role", [roles.FINANCE_OFFICER, roles.SCHEME_ADMINISTRATOR])
def test_roles_without_casework_cannot_assess_note_or_assign(client, role):
    claim = claim_in_stage(Stage.ASSESSMENT)
    head = claim.heads_of_loss.get()
    client.force_login(staff(role))

    assess = client.post(
        reverse("admin:claims_claim_assess", args=[claim.pk]),
        {"version": claim.version, f"allowed-{head.pk}": "1.00", f"reason-{head.pk}": "x"},
    )
    note = client.post(reverse("admin:claims_claim_note", args=[claim.pk]), {"text": "hello"})
    assign = client.post(
        reverse("admin:claims_claim_assign_to_me", args=[claim.pk]), {"version": claim.version}
    )

    assert (assess.status_code, note.status_code, assign.status_code) == (403, 403, 403)
    head.refresh_from_db()
    assert head.amount_allowed is None
    assert not claim.notes.exists()


def test_a_caseworker_posting_an_approval_directly_is_refused(client, people):
    claim = claim_in_stage(Stage.OFFER_PENDING_APPROVAL, people=people)
    client.force_login(staff(roles.CASEWORKER))

    response = transition(client, claim, "offer_approve")

    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_PENDING_APPROVAL
    assert not claim.events.filter(action="offer_approve").exists()


def test_a_senior_caseworker_cannot_approve_an_offer_they_assessed(client):
    senior = staff(roles.SENIOR_CASEWORKER)
    people = People()
    people.caseworker = senior  # the senior triages and assesses it
    claim = claim_in_stage(Stage.OFFER_PENDING_APPROVAL, people=people)
    client.force_login(senior)

    page = client.get(page_url(claim))
    response = transition(client, claim, "offer_approve")

    assert "offer_approve" not in buttons(page)
    assert "another senior caseworker" in page.content.decode()
    assert response.status_code == 302
    assert "another senior caseworker must approve" in flash(response)
    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_PENDING_APPROVAL


def test_another_senior_caseworker_approves_the_offer(client, people):
    claim = claim_in_stage(Stage.OFFER_PENDING_APPROVAL, people=people)
    client.force_login(people.senior)

    response = transition(client, claim, "offer_approve")

    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_MADE
    assert claim.events.filter(action="offer_approve", actor=people.senior).exists()
    assert claim.status_updates.filter(stage=Stage.OFFER_MADE).exists()


def test_a_move_that_needs_a_reason_is_refused_without_one(client, people):
    claim = claim_in_stage(Stage.TRIAGE, people=people)
    client.force_login(people.caseworker)

    page = client.get(page_url(claim)).content.decode()
    response = transition(client, claim, "triage_reject", reason="  ")

    assert 'name="reason"' in page and "required" in page
    assert "Give a reason" in flash(response)
    claim.refresh_from_db()
    assert claim.stage == Stage.TRIAGE


def test_each_button_calls_its_service(client, people):
    claim = claim_in_stage(Stage.TRIAGE, people=people)
    client.force_login(people.caseworker)

    transition(client, claim, "triage_reject", reason="Not a Debenhams Flowers customer")

    claim.refresh_from_db()
    assert claim.stage == Stage.REJECTED
    event = claim.events.get(action="triage_reject")
    assert (event.actor, event.reason) == (people.caseworker, "Not a Debenhams Flowers customer")


def test_requesting_information_sends_the_claimant_the_text(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    client.force_login(people.caseworker)

    transition(client, claim, "information_request", reason="Please send your March statement.")

    claim.refresh_from_db()
    assert claim.stage == Stage.INFORMATION_REQUESTED
    assert claim.messages.get().body == "Please send your March statement."
    assert "Please send your March statement." in client.get(page_url(claim)).content.decode()


def test_a_stale_page_says_someone_changed_the_claim_instead_of_overwriting(client, people):
    claim = claim_in_stage(Stage.TRIAGE, people=people)
    client.force_login(people.caseworker)
    page_version = client.get(page_url(claim)).context["claim"].version
    casework.claim_assign(
        claim_id=claim.pk, actor=Actor.staff(people.senior), assignee=people.senior
    )  # someone else, meanwhile

    response = transition(client, claim, "triage_accept", version=page_version)

    assert "Someone else changed this claim" in flash(response)
    claim.refresh_from_db()
    assert claim.stage == Stage.TRIAGE
    assert claim.assigned_to == people.senior


# --- assessment -----------------------------------------------------------------


def _two_heads(claim: Claim) -> None:
    claim.heads_of_loss.create(
        category=HeadOfLoss.Category.BANK_CHARGES, amount_claimed=Decimal("25.00")
    )


def test_heads_of_loss_are_assessed_inline_all_at_once(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    _two_heads(claim)
    first, second = claim.heads_of_loss.order_by("id")
    client.force_login(people.caseworker)
    version = client.get(page_url(claim)).context["claim"].version

    response = client.post(
        reverse("admin:claims_claim_assess", args=[claim.pk]),
        {
            "version": version,
            f"allowed-{first.pk}": "30.00",
            f"reason-{first.pk}": "One payment was refunded by the bank",
            f"allowed-{second.pk}": "25.00",
            f"reason-{second.pk}": "",
        },
    )

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.amount_allowed, second.amount_allowed) == (Decimal("30.00"), Decimal("25.00"))
    assert first.assessment_reason == "One payment was refunded by the bank"
    assert claim.events.filter(action="assess_head").count() == 2


def test_one_bad_head_saves_no_assessment_and_says_which(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    _two_heads(claim)
    first, second = claim.heads_of_loss.order_by("id")
    client.force_login(people.caseworker)

    response = client.post(
        reverse("admin:claims_claim_assess", args=[claim.pk]),
        {
            "version": claim.version,
            f"allowed-{first.pk}": "35.00",
            f"allowed-{second.pk}": "10.00",  # less than claimed, and no reason
        },
    )

    assert "Bank charges: Give a reason" in flash(response)
    assert not claim.heads_of_loss.filter(amount_allowed__isnull=False).exists()


def test_the_claim_page_helps_with_distress_bands_lost_time_and_the_fund(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    claim.heads_of_loss.create(
        category=HeadOfLoss.Category.DISTRESS, amount_claimed=Decimal("400.00")
    )
    claim.heads_of_loss.create(
        category=HeadOfLoss.Category.TIME_SPENT,
        amount_claimed=Decimal("300.00"),
        hours=Decimal("12"),
    )
    client.force_login(people.caseworker)

    response = client.get(page_url(claim))
    page = response.content.decode()

    assert "Distress bands" in page
    moderate = next(b for b in response.context["page"].bands if b.name == "Moderate")
    assert response.context["page"].band_suggestions[moderate.pk] == Decimal("400.00")
    assert "12 h × £25.00 an hour, capped at 10 h without evidence" in page
    assert "at most £250.00" in page
    assert "Scheme fund remaining" in page
    assert "£5,000,000.00" in page


# --- assigning --------------------------------------------------------------------


def test_assign_to_me_from_the_claim_page(client, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    me = staff(roles.CASEWORKER)
    client.force_login(me)

    client.post(
        reverse("admin:claims_claim_assign_to_me", args=[claim.pk]), {"version": claim.version}
    )

    claim.refresh_from_db()
    assert claim.assigned_to == me
    assert claim.events.filter(action="assign", actor=me).exists()


def test_bulk_assign_to_me_and_to_a_chosen_caseworker(client, people):
    scheme = SchemeFactory()
    first = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    second = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    me, colleague = staff(roles.CASEWORKER), staff(roles.CASEWORKER)
    client.force_login(me)

    client.post(CLAIMS_LIST, {"action": "assign_to_me", "_selected_action": [first.pk, second.pk]})
    client.post(
        CLAIMS_LIST,
        {"action": "assign_to_chosen", "assignee": colleague.pk, "_selected_action": [second.pk]},
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.assigned_to, second.assigned_to) == (me, colleague)


def test_finance_officers_have_no_assign_actions(client, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    finance = staff(roles.FINANCE_OFFICER)
    client.force_login(finance)

    listing = client.get(CLAIMS_LIST)
    client.post(CLAIMS_LIST, {"action": "assign_to_me", "_selected_action": [claim.pk]})

    assert "assign_to_me" not in listing.content.decode()
    claim.refresh_from_db()
    assert claim.assigned_to is None


# --- notes ---------------------------------------------------------------------------


def test_caseworker_adds_an_internal_note(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    client.force_login(people.caseworker)

    client.post(reverse("admin:claims_claim_note", args=[claim.pk]), {"text": "Rang the bank"})

    assert claim.notes.get().text == "Rang the bank"
    assert "Rang the bank" in client.get(page_url(claim)).content.decode()


def test_the_admin_form_itself_saves_nothing(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    client.force_login(people.senior)

    response = client.post(page_url(claim), {"full_name": "Someone Else", "stage": "paid"})

    assert response.status_code == 403
    claim.refresh_from_db()
    assert (claim.full_name, claim.stage) == ("Zoë O'Brien", Stage.ASSESSMENT)


def test_large_claims_need_approval_after_propose(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people, large=True)
    assess_all(claim, people.caseworker)
    claim.refresh_from_db()
    client.force_login(people.caseworker)

    transition(client, claim, "offer_propose")

    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_PENDING_APPROVAL
    assert claim.offers.get().total == LARGE_LOSS


def test_bulk_assign_to_someone_who_is_not_a_caseworker_changes_nothing(client, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    me, finance = staff(roles.CASEWORKER), staff(roles.FINANCE_OFFICER)
    client.force_login(me)

    response = client.post(
        CLAIMS_LIST,
        {"action": "assign_to_chosen", "assignee": finance.pk, "_selected_action": [claim.pk]},
        follow=True,
    )

    claim.refresh_from_db()
    assert claim.assigned_to is None
    assert "Choose a caseworker to assign to." in flash(response)


def test_the_assign_menu_lists_the_caseworkers_and_nobody_else(client, people):
    claim_in_stage(Stage.SUBMITTED, people=people)
    finance = staff(roles.FINANCE_OFFICER)
    client.force_login(people.caseworker)

    page = client.get(CLAIMS_LIST).content.decode()
    menu = page[page.index('<select name="assignee">') :].split("</select>")[0]

    assert f'<option value="{people.caseworker.pk}">{people.caseworker}</option>' in menu
    assert f'value="{people.senior.pk}"' in menu
    assert f'value="{finance.pk}"' not in menu


def test_a_claim_that_does_not_exist_sends_the_caseworker_back_with_a_message(client, people):
    client.force_login(people.caseworker)

    response = client.get(reverse("admin:claims_claim_change", args=[999999]), follow=True)

    assert response.status_code == 200
    assert "doesn’t exist" in flash(response)


# --- what the page costs -----------------------------------------------------------


def _a_long_history(claim: Claim, people: People) -> None:
    """Take a claim in assessment to 200 events, 20 heads of loss (some with evidence,
    assessed by different people), 30 messages, notes and flags, the rows naming
    several members of staff."""
    hands = [people.caseworker, people.senior, staff(roles.CASEWORKER), staff(roles.CASEWORKER)]
    band = claim.scheme.distress_bands.order_by("position").first()
    heads = HeadOfLoss.objects.bulk_create(
        HeadOfLoss(
            claim=claim,
            category=HeadOfLoss.Category.DISTRESS if n == 0 else HeadOfLoss.Category.BANK_CHARGES,
            amount_claimed=Decimal("25.00") + n,
            description=f"Head {n}",
            amount_allowed=Decimal("20.00") if n % 2 else None,
            assessed_by=hands[n % 4] if n % 2 else None,
            distress_band=band if n == 0 else None,
        )
        for n in range(19)
    )
    Evidence.objects.bulk_create(
        Evidence(
            claim=claim,
            head_of_loss=head,
            file=f"evidence/{claim.pk}/{n}",
            original_name=f"statement-{n}.pdf",
            content_type="application/pdf",
            size=1000,
            sha256=f"{n:064d}",
        )
        for n, head in enumerate(heads[:10])
    )
    Message.objects.bulk_create(
        Message(
            claim=claim,
            direction=Message.Direction.TO_CLAIMANT if n % 2 else Message.Direction.FROM_CLAIMANT,
            author=hands[n % 4] if n % 2 else None,
            body=f"Message {n}",
        )
        for n in range(30)
    )
    InternalNote.objects.bulk_create(
        InternalNote(claim=claim, author=hands[n % 4], text=f"Note {n}") for n in range(12)
    )
    other = claim_in_stage(Stage.SUBMITTED, people=people)
    ClaimFlag.objects.bulk_create(
        [
            ClaimFlag(claim=claim, kind=ClaimFlag.Kind.SAME_EMAIL, reason="x", related_claim=other),
            ClaimFlag(claim=claim, kind=ClaimFlag.Kind.HIGH_AMOUNT, reason="y"),
        ]
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            claim=claim,
            action="note" if n % 2 else "assess_head",
            actor_kind=ActorKind.STAFF if n % 3 else ActorKind.CLAIMANT,
            actor=hands[n % 4] if n % 3 else None,
            reason=f"Event {n}",
            data={"n": n},
        )
        for n in range(200 - claim.events.count())
    )


def _queries_for_the_page(client, claim: Claim) -> int:
    # Once first, so that what every page shares (permissions, the scheme, the fund)
    # is in the cache for both claims alike.
    client.get(page_url(claim))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page_url(claim)).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", roles.ROLES)
def test_the_claim_page_makes_as_many_queries_for_a_long_history_as_for_a_short_one(
    client, people, role
):
    short = claim_in_stage(Stage.ASSESSMENT, people=people)
    long = claim_in_stage(Stage.ASSESSMENT, people=people)
    _a_long_history(long, people)
    assert short.events.count() == 5
    assert (long.events.count(), long.heads_of_loss.count(), long.messages.count()) == (
        200,
        20,
        30,
    )
    client.force_login(staff(role))

    assert _queries_for_the_page(client, short) == _queries_for_the_page(client, long)


@pytest.mark.parametrize("role", roles.ROLES)
def test_the_claim_page_makes_as_many_queries_for_many_offers_as_for_one(client, people, role):
    one = claim_in_stage(Stage.REVIEW, people=people)
    many = claim_in_stage(Stage.REVIEW, people=people)
    hands = [people.caseworker, people.senior, staff(roles.SENIOR_CASEWORKER)]
    heads = [
        many.heads_of_loss.get(),
        *HeadOfLoss.objects.bulk_create(
            HeadOfLoss(
                claim=many,
                category=HeadOfLoss.Category.BANK_CHARGES,
                amount_claimed=Decimal("25.00"),
                amount_allowed=Decimal("25.00"),
                assessed_by=hands[n % 3],
            )
            for n in range(19)
        ),
    ]
    for version in (2, 3, 4):  # revisions proposed and sent back
        offer = Offer.objects.create(
            claim=many, version=version, total=Decimal("100.00"), proposed_by=hands[version % 3]
        )
        OfferItem.objects.bulk_create(
            OfferItem(
                offer=offer,
                head_of_loss=head,
                category=head.category,
                amount_claimed=head.amount_claimed,
                amount_offered=head.amount_claimed,
                assessed_by=hands[n % 3],
                response=ItemResponse.DISPUTED if n % 2 else "",
            )
            for n, head in enumerate(heads)
        )
    client.force_login(staff(role))

    assert _queries_for_the_page(client, one) == _queries_for_the_page(client, many)


def test_the_timeline_shows_the_latest_events_and_links_to_the_full_history(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    AuditEvent.objects.bulk_create(
        AuditEvent(claim=claim, action="note", actor_kind=ActorKind.STAFF, reason=f"Event {n}")
        for n in range(TIMELINE_EVENTS + 10)
    )
    client.force_login(people.caseworker)

    page = client.get(page_url(claim)).content.decode()

    timeline = page[page.index('id="timeline"') :]
    assert timeline.count("<li>") == TIMELINE_EVENTS
    assert f"Event {TIMELINE_EVENTS + 9}<" in timeline  # the newest is shown
    assert "Event 0<" not in timeline  # the oldest is in the full history only
    history = reverse("admin:claims_auditevent_changelist") + f"?claim__id__exact={claim.pk}"
    assert f'href="{history}"' in timeline
    listed = client.get(history)
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == claim.events.count()


def test_a_short_history_is_all_on_the_page_without_a_link(client, people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    client.force_login(people.caseworker)

    page = client.get(page_url(claim)).content.decode()

    assert "full history" not in page
    assert page[page.index('id="timeline"') :].count("<li>") == claim.events.count()
