"""A claimant's submission in one statement on PostgreSQL (services._claim_submit_at_once)
writes what the locked path writes, keeps every rule, and steps aside, changing
nothing, whenever the claim changed under it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import models

from claims import notifications, services
from claims.models import AuditEvent, Claim, LetterRequest, Stage, StatusUpdate
from claims.services import Actor, ClaimError
from tests.factories import SchemeFactory, draft_claim
from tests.races import race

pytestmark = pytest.mark.postgres

# Differ by nature between any two rows: which row, and when.
_OWN = {"id", "claim", "event", "created_at", "next_attempt_at", "verification_code"}


def _values(row: models.Model) -> dict[str, Any]:
    """Every column of a row but its own id, claim, event and times: a column added to
    the model later is compared too."""
    return {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if field.name not in _OWN
    }


def _draft(scheme: Any) -> Claim:
    claim = draft_claim(scheme)
    services.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category="bank_charges",
        amount_claimed="25.00",
    )
    return claim


def _published(monkeypatch: Any) -> list[tuple[Any, ...]]:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(notifications, "publish", lambda *args: sent.append(args) or True)
    return sent


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_at_once_writes_the_rows_and_message_the_locked_path_writes(monkeypatch: Any) -> None:
    scheme = SchemeFactory()
    fast, locked = _draft(scheme), _draft(scheme)
    sent = _published(monkeypatch)

    services.claim_submit(
        claim_id=fast.pk,
        actor=Actor.claimant(fast.pk),
        statement_of_truth=True,
        ip_address="192.0.2.7",
    )
    services._claim_submit(
        claim_id=locked.pk,
        actor=Actor.claimant(locked.pk),
        statement_of_truth=True,
        today=dt.date.today(),
        ip_address="192.0.2.7",
    )

    fast.refresh_from_db()
    locked.refresh_from_db()
    assert fast.stage == locked.stage == Stage.SUBMITTED
    assert fast.version == locked.version
    assert fast.submitted_ip == locked.submitted_ip == "192.0.2.7"
    assert fast.submitted_at == fast.stage_changed_at == fast.updated_at
    for model in (AuditEvent, StatusUpdate, LetterRequest):
        (fast_row,) = model.objects.filter(claim=fast, **_submitted(model))
        (locked_row,) = model.objects.filter(claim=locked, **_submitted(model))
        assert _values(fast_row) == _values(locked_row), model.__name__
        assert fast_row.created_at == fast.submitted_at
    update = StatusUpdate.objects.get(claim=fast)
    request = LetterRequest.objects.get(claim=fast)
    event = AuditEvent.objects.get(claim=fast, action="submit")
    assert update.event_id == request.event_id == event.pk
    assert update.next_attempt_at == request.next_attempt_at == fast.submitted_at
    assert len(update.verification_code) == 6
    # One message each, the same three tasks.
    (fast_message,), (locked_message,) = (
        [args for args in sent if claim.pk in _ids(args)] for claim in (fast, locked)
    )
    assert fast_message == (
        notifications.PUBLISH_TOGETHER_TASK,
        [
            [notifications.STATUS_UPDATE_TASK, [update.pk]],
            ["claims.tasks.letter_generate", [request.pk]],
            ["claims.tasks.claim_flags_check", [fast.pk]],
        ],
    )
    assert [name for name, _ in fast_message[1]] == [name for name, _ in locked_message[1]]


def _submitted(model: type[models.Model]) -> dict[str, Any]:
    return {"action": "submit"} if model is AuditEvent else {}


def _ids(message: tuple[Any, ...]) -> list[int]:
    return [args[0] for _, args in message[1]]


@pytest.mark.django_db
def test_at_once_keeps_the_claim_window_to_the_day() -> None:
    today = dt.date.today()
    scheme = SchemeFactory(claims_open=today - dt.timedelta(days=30), claims_close=today)
    on_the_last_day, after_it = _draft(scheme), _draft(scheme)
    after_it.refresh_from_db()
    version = after_it.version

    services.claim_submit(
        claim_id=on_the_last_day.pk,
        actor=Actor.claimant(on_the_last_day.pk),
        statement_of_truth=True,
    )
    with pytest.raises(ClaimError) as refused:
        services.claim_submit(
            claim_id=after_it.pk,
            actor=Actor.claimant(after_it.pk),
            statement_of_truth=True,
            today=today + dt.timedelta(days=1),
        )

    assert refused.value.code == "outside_claim_window"
    on_the_last_day.refresh_from_db()
    after_it.refresh_from_db()
    assert on_the_last_day.stage == Stage.SUBMITTED
    assert after_it.stage == Stage.DRAFT and after_it.version == version
    assert not after_it.events.filter(action="submit").exists()
    assert not after_it.status_updates.exists() and not after_it.letter_requests.exists()


@pytest.mark.django_db
def test_at_once_refuses_another_claims_claimant_and_an_empty_claim() -> None:
    scheme = SchemeFactory()
    claim, other = _draft(scheme), draft_claim(scheme)

    with pytest.raises(ClaimError) as not_theirs:
        services.claim_submit(
            claim_id=claim.pk, actor=Actor.claimant(other.pk), statement_of_truth=True
        )
    with pytest.raises(ClaimError) as empty:
        services.claim_submit(
            claim_id=other.pk, actor=Actor.claimant(other.pk), statement_of_truth=True
        )

    assert not_theirs.value.code == "not_found"
    assert empty.value.code == "no_heads_of_loss"
    assert set(Claim.objects.values_list("stage", flat=True)) == {Stage.DRAFT}
    assert not StatusUpdate.objects.exists() and not LetterRequest.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_change_to_the_claim_while_it_is_submitted_is_kept_and_the_claim_submitted(
    monkeypatch: Any,
) -> None:
    """The statement found the claim at one version and the contact details' change
    made it the next while the statement waited for the row: the statement steps aside
    and the locked path submits the claim as it now is."""
    claim = _draft(SchemeFactory())
    actor = Actor.claimant(claim.pk)
    locked_path = []
    original = services._claim_submit
    monkeypatch.setattr(
        services, "_claim_submit", lambda **kwargs: locked_path.append(1) or original(**kwargs)
    )

    changed, submitted = race(
        lambda: services.claim_update_details(
            claim_id=claim.pk, actor=actor, page="contact", phone="07700 900123"
        ),
        lambda: services.claim_submit(claim_id=claim.pk, actor=actor, statement_of_truth=True),
        monkeypatch,
        hold_after=(services, "_lock_draft"),
    )

    assert not isinstance(changed, ClaimError)
    assert isinstance(submitted, Claim) and locked_path == [1]
    claim.refresh_from_db()
    assert claim.stage == Stage.SUBMITTED and claim.phone == "07700 900123"
    assert claim.events.filter(action="submit").count() == 1
    assert claim.status_updates.count() == 1 and claim.letter_requests.count() == 1
