"""Payment batches: built from payable claims, the payment file for the bank, each
payment marked paid or failed; a claim never in two open batches, never paid twice."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from claims.actions import payments, submission
from claims.core import Actor, ClaimError
from claims.domain import roles
from claims.domain.stages import LetterKind, Stage
from claims.models import AuditEvent, LetterRequest, Payment, PaymentBatch, StatusUpdate
from tests.support.factories import claim_in_stage, staff
from tests.support.letters import make_pending_letters, pdf_text

SORT_CODE, ACCOUNT = "401276", "73915284"


def give_details(claim, *, account=ACCOUNT, name="Zoë O'Brien"):
    return submission.bank_details_set(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        account_name=name,
        sort_code=SORT_CODE,
        account_number=account,
    )


def build(scheme, people, **kwargs):
    return payments.payment_batch_build(
        scheme_id=scheme.pk, actor=Actor.staff(people.finance), **kwargs
    )


@pytest.fixture
def payable(scheme, people):
    claim = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    give_details(claim)
    return claim


def _pending(claim) -> Payment:
    return claim.payments.get(state=Payment.State.PENDING)


# --- building a batch ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_takes_accepted_claims_with_details_not_on_hold(scheme, people, payable):
    no_details = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    on_hold = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    give_details(on_hold, account="11112222")
    give_details(on_hold, account="33334444")  # a change: held until confirmed
    events_before = payable.events.count()

    batch = build(scheme, people)

    payment = payable.payments.get()
    payable.refresh_from_db()
    assert payable.stage == Stage.PAYMENT_PENDING
    assert batch.count == 1 and batch.total == payment.amount == Decimal("35.00")
    assert payment.offer == payable.offers.get() and payment.account_last4 == "5284"
    event = payable.events.exclude(pk__lte=events_before).get(action="payment_queue")
    assert event.actor == people.finance and event.data["batch"] == batch.pk
    assert payable.status_updates.get(event=event).kind == "payment_pending"
    for claim in (no_details, on_hold):
        claim.refresh_from_db()
        assert claim.stage == Stage.ACCEPTED and not claim.payments.exists()


@pytest.mark.django_db
def test_the_amount_paid_comes_from_payable_amount(scheme, people, payable, monkeypatch):
    monkeypatch.setattr(payments, "payable_amount", lambda claim, offer=None: Decimal("12.34"))

    batch = build(scheme, people)

    assert batch.total == Decimal("12.34") and payable.payments.get().amount == Decimal("12.34")


@pytest.mark.django_db
def test_payable_amount_is_the_accepted_offers_total(payable):
    assert payments.payable_amount(payable) == payable.offers.get().total


@pytest.mark.django_db
def test_nothing_to_pay_is_refused_and_leaves_no_batch(scheme, people):
    claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)  # no bank details

    with pytest.raises(ClaimError) as refused:
        build(scheme, people)

    assert refused.value.code == "nothing_to_pay"
    assert not PaymentBatch.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [roles.CASEWORKER, roles.SENIOR_CASEWORKER, roles.SCHEME_ADMINISTRATOR]
)
def test_only_finance_officers_build_batches(scheme, payable, role):
    with pytest.raises(ClaimError) as refused:
        payments.payment_batch_build(scheme_id=scheme.pk, actor=Actor.staff(staff(role)))

    assert refused.value.code == "forbidden"
    payable.refresh_from_db()
    assert payable.stage == Stage.ACCEPTED and not PaymentBatch.objects.exists()


@pytest.mark.django_db
def test_a_claim_is_never_in_two_open_batches(scheme, people, payable):
    build(scheme, people)

    with pytest.raises(ClaimError) as again:
        build(scheme, people, claim_ids=[payable.pk])
    with pytest.raises(ClaimError) as whole_scheme:
        build(scheme, people)

    assert again.value.code == "illegal_transition"
    assert whole_scheme.value.code == "nothing_to_pay"
    assert payable.payments.count() == 1 and PaymentBatch.objects.count() == 1
    # And the database refuses it even if a service were wrong.
    other = PaymentBatch.objects.create(scheme=scheme, created_by=people.finance)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            claim=payable,
            offer=payable.offers.get(),
            batch=other,
            amount=Decimal("35.00"),
            account_last4="5284",
            created_by=people.finance,
        )


# --- the payment file ----------------------------------------------------------------------


@pytest.mark.django_db
def test_payment_file_has_one_documented_row_per_payment_and_is_audited(scheme, people, payable):
    hostile = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    give_details(hostile, account="55556666", name='=HYPERLINK("http://evil.test","Zoë")')
    batch = build(scheme, people)

    name, text = payments.payment_file(batch_id=batch.pk, actor=Actor.staff(people.finance))

    assert name.startswith(f"payments-{scheme.slug}-batch-{batch.pk}-") and name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        [SORT_CODE, ACCOUNT, "ZOE OBRIEN", "35.00", payable.reference],
        [SORT_CODE, "55556666", "HYPERLINKHTTP//EVI", "35.00", hostile.reference],
    ]
    assert text.endswith("\r\n") and text.isascii()
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    for claim in (payable, hostile):
        event = AuditEvent.objects.get(claim=claim, action="payment_file_downloaded")
        assert event.actor == people.finance and event.data["batch"] == batch.pk
    batch.refresh_from_db()
    assert batch.file_downloaded_at is not None


@pytest.mark.django_db
def test_only_finance_officers_download_the_payment_file(scheme, people, payable):
    batch = build(scheme, people)

    with pytest.raises(ClaimError) as refused:
        payments.payment_file(batch_id=batch.pk, actor=Actor.staff(people.caseworker))

    assert refused.value.code == "forbidden"
    assert not AuditEvent.objects.filter(action="payment_file_downloaded").exists()


def test_bacs_text_keeps_names_to_the_bacs_character_set():
    assert payments.bacs_text("Zoë O'Brien-Smith & Co.") == "ZOE OBRIEN-SMITH &"
    assert payments.bacs_text("-@+=1 Ltd") == "1 LTD"
    assert payments.bacs_text("Ærøskøbing   Trust") == "RSKBING TRUST"


# --- paid and failed ----------------------------------------------------------------------


@pytest.mark.django_db
def test_marking_paid_pays_the_claim_and_queues_letter_and_update(
    scheme, people, payable, django_capture_on_commit_callbacks
):
    build(scheme, people)
    payment = _pending(payable)

    with django_capture_on_commit_callbacks() as queued:
        payments.payment_mark_paid(payment_id=payment.pk, actor=Actor.staff(people.finance))

    payable.refresh_from_db()
    payment.refresh_from_db()
    assert payable.stage == Stage.PAID
    assert payment.state == Payment.State.PAID and payment.decided_by == people.finance
    event = payable.events.get(action="payment_confirm")
    assert (event.from_stage, event.to_stage) == (Stage.PAYMENT_PENDING, Stage.PAID)
    assert event.data["amount"] == "35.00"
    update = StatusUpdate.objects.get(event=event)
    assert update.kind == "paid" and update.state == StatusUpdate.State.PENDING
    request = LetterRequest.objects.get(event=event)
    assert request.kind == LetterKind.PAYMENT_CONFIRMATION
    assert len(queued) >= 2  # the status update and the letter, once the change commits
    assert payment.batch.state == PaymentBatch.State.CLOSED
    (letter,) = [
        made
        for made in make_pending_letters(payable)
        if made.kind == LetterKind.PAYMENT_CONFIRMATION
    ]
    text = pdf_text(letter.file.read())
    assert "We paid you £35.00" in text and "account ending 5284" in text
    assert ACCOUNT not in text


@pytest.mark.django_db
def test_a_payment_is_never_marked_paid_twice(scheme, people, payable):
    build(scheme, people)
    payment = _pending(payable)
    payments.payment_mark_paid(payment_id=payment.pk, actor=Actor.staff(people.finance))
    events = AuditEvent.objects.count()

    with pytest.raises(ClaimError) as again:
        payments.payment_mark_paid(payment_id=payment.pk, actor=Actor.staff(people.finance))
    with pytest.raises(ClaimError) as then_failed:
        payments.payment_mark_failed(
            payment_id=payment.pk, actor=Actor.staff(people.finance), reason="Returned"
        )

    assert again.value.code == "already_paid" and then_failed.value.code == "already_paid"
    assert AuditEvent.objects.count() == events
    assert payable.events.filter(action="payment_confirm").count() == 1
    # A second paid payment of the same offer is refused by the database too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            claim=payable,
            offer=payment.offer,
            batch=payment.batch,
            amount=payment.amount,
            state=Payment.State.PAID,
            account_last4="5284",
            created_by=people.finance,
        )


@pytest.mark.django_db
def test_a_failed_payment_returns_the_claim_for_new_details(scheme, people, payable):
    build(scheme, people)
    payment = _pending(payable)

    with pytest.raises(ClaimError) as no_reason:
        payments.payment_mark_failed(
            payment_id=payment.pk, actor=Actor.staff(people.finance), reason=" "
        )
    payments.payment_mark_failed(
        payment_id=payment.pk, actor=Actor.staff(people.finance), reason="Account closed"
    )

    assert no_reason.value.code == "reason_required"
    payable.refresh_from_db()
    payment.refresh_from_db()
    assert payable.stage == Stage.ACCEPTED and payment.state == Payment.State.FAILED
    event = payable.events.get(action="payment_fail")
    assert event.reason == "Account closed"
    assert StatusUpdate.objects.get(event=event).kind == "payment_failed"
    # The same details would fail again: no batch takes the claim until new ones come ...
    with pytest.raises(ClaimError) as same_details:
        build(scheme, people)
    assert same_details.value.code == "nothing_to_pay"
    # ... and new ones are a change, confirmed by a caseworker before payment.
    give_details(payable, account="99990000")
    payments.bank_details_confirm(
        claim_id=payable.pk, actor=Actor.staff(people.caseworker), reason="Rang the claimant"
    )
    batch = build(scheme, people)
    assert _pending(payable).batch == batch and _pending(payable).account_last4 == "0000"


# --- in the admin -------------------------------------------------------------------------


@pytest.mark.django_db
def test_finance_officer_builds_downloads_and_pays_in_the_admin(client, scheme, people, payable):
    client.force_login(people.finance)
    build_url = reverse("admin:claims_paymentbatch_build")

    ready = client.get(build_url).content.decode()
    built = client.post(build_url, {"scheme": scheme.pk})
    batch = PaymentBatch.objects.get()
    page = client.get(built.url).content.decode()
    download = client.post(reverse("admin:claims_paymentbatch_file", args=[batch.pk]))
    payment = _pending(payable)
    client.post(
        reverse("admin:claims_paymentbatch_decide", args=[batch.pk, payment.pk]),
        {"outcome": "paid"},
    )

    assert "Build a batch of 1 payment" in ready
    assert built.url == reverse("admin:claims_paymentbatch_change", args=[batch.pk])
    assert f"Mark {payable.reference} paid" in page and "••••5284" in page
    assert ACCOUNT not in page
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    assert ACCOUNT in download.content.decode()
    payable.refresh_from_db()
    assert payable.stage == Stage.PAID


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [roles.CASEWORKER, roles.SENIOR_CASEWORKER, roles.SCHEME_ADMINISTRATOR]
)
def test_other_staff_cannot_open_payment_batches(client, scheme, people, payable, role):
    batch = build(scheme, people)
    client.force_login(staff(role))

    assert client.get(reverse("admin:claims_paymentbatch_build")).status_code == 403
    assert (
        client.post(reverse("admin:claims_paymentbatch_file", args=[batch.pk])).status_code == 403
    )
    assert (
        client.get(reverse("admin:claims_paymentbatch_change", args=[batch.pk])).status_code == 403
    )


@pytest.mark.django_db
def test_the_payment_file_is_never_served_by_a_get(client, scheme, people, payable):
    batch = build(scheme, people)
    client.force_login(people.finance)

    response = client.get(reverse("admin:claims_paymentbatch_file", args=[batch.pk]))

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="payment_file_downloaded").exists()


@pytest.mark.django_db
def test_the_fund_counts_what_payments_paid(scheme, people, payable):
    from claims.queries.funds import fund_summary

    build(scheme, people)
    assert fund_summary(scheme).committed == Decimal("35.00")
    payments.payment_mark_paid(payment_id=_pending(payable).pk, actor=Actor.staff(people.finance))

    fund = fund_summary(scheme)
    assert fund.paid == Decimal("35.00") and fund.committed == Decimal("0.00")


@pytest.mark.django_db
def test_after_a_failed_payment_the_claimant_is_asked_for_their_details_again(
    client, scheme, people, payable
):
    from claims.actions.access import access_link_issue

    build(scheme, people)
    payments.payment_mark_failed(
        payment_id=_pending(payable).pk, actor=Actor.staff(people.finance), reason="Closed"
    )
    client.post(f"/link/{access_link_issue(claim=payable, purpose='follow')}/")

    asked = client.get("/my-claim/").content.decode()
    client.post(
        "/my-claim/bank-details/",
        {"account_name": "Zoë O'Brien", "sort_code": "40-12-76", "account_number": "99990000"},
    )
    after = client.get("/my-claim/").content.decode()

    assert "Our payment to the account ending 5284 did not go through" in asked
    assert "Give your bank details again" in asked and "Closed" not in asked
    assert "did not go through" not in after and "check the change with you" in after


@pytest.mark.django_db
def test_the_claim_page_shows_finance_each_payment_and_its_batch(client, scheme, people, payable):
    first = build(scheme, people)
    payments.payment_mark_failed(
        payment_id=_pending(payable).pk, actor=Actor.staff(people.finance), reason="Account closed"
    )
    give_details(payable, account="99990000")
    payments.bank_details_confirm(
        claim_id=payable.pk, actor=Actor.staff(people.caseworker), reason="Rang the claimant"
    )
    second = build(scheme, people)
    claim_page = reverse("admin:claims_claim_change", args=[payable.pk])

    client.force_login(people.finance)
    finance = client.get(claim_page).content.decode()
    client.force_login(people.caseworker)
    caseworker = client.get(claim_page).content.decode()

    for batch in (first, second):
        assert reverse("admin:claims_paymentbatch_change", args=[batch.pk]) in finance
    assert "Failed: Account closed" in finance and "Pending" in finance
    assert 'id="payments-heading"' not in caseworker
