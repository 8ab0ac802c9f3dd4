"""A claimant's submission in one statement on PostgreSQL (services._claim_submit_at_once)
writes what the locked path writes, keeps every rule, and steps aside, changing
nothing, whenever the claim changed under it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import models

from claims import outbox, services
from claims.models import AuditEvent, Claim, LetterRequest, Stage, StatusUpdate
from claims.services import Actor, ClaimError
from tests.factories import SchemeFactory, draft_claim, draft_with_a_loss
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


def _published(monkeypatch: Any) -> list[tuple[Any, ...]]:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(outbox, "publish", lambda *args: sent.append(args) or True)
    return sent


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_at_once_writes_the_rows_and_message_the_locked_path_writes(monkeypatch: Any) -> None:
    scheme = SchemeFactory()
    fast, locked = draft_with_a_loss(scheme), draft_with_a_loss(scheme)
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
    # Each claim's message is the one that checks its flags: a status update's or letter
    # request's id may equal the other claim's id.
    (fast_message,), (locked_message,) = (
        [args for args in sent if ["claims.tasks.claim_flags_check", [claim.pk]] in args[1]]
        for claim in (fast, locked)
    )
    assert fast_message == (
        outbox.PUBLISH_TOGETHER_TASK,
        [
            [outbox.STATUS_UPDATE_TASK, [update.pk]],
            ["claims.tasks.letter_generate", [request.pk]],
            ["claims.tasks.claim_flags_check", [fast.pk]],
        ],
    )
    assert [name for name, _ in fast_message[1]] == [name for name, _ in locked_message[1]]


def _submitted(model: type[models.Model]) -> dict[str, Any]:
    return {"action": "submit"} if model is AuditEvent else {}


def _locked_path_calls(monkeypatch: Any) -> list[int]:
    """The claims the locked path was asked to submit: empty while the statement did it."""
    calls: list[int] = []
    original = services._claim_submit
    monkeypatch.setattr(
        services,
        "_claim_submit",
        lambda **kwargs: calls.append(kwargs["claim_id"]) or original(**kwargs),
    )
    return calls


@pytest.mark.django_db
def test_at_once_keeps_the_claim_window_to_the_day(monkeypatch: Any) -> None:
    today = dt.date.today()
    scheme = SchemeFactory(claims_open=today, claims_close=today + dt.timedelta(days=30))
    first_day, last_day, before, after = (draft_with_a_loss(scheme) for _ in range(4))
    after.refresh_from_db()
    version = after.version
    locked = _locked_path_calls(monkeypatch)

    for claim, day in ((first_day, today), (last_day, scheme.claims_close)):
        services.claim_submit(
            claim_id=claim.pk, actor=Actor.claimant(claim.pk), statement_of_truth=True, today=day
        )
    assert locked == []  # both by the one statement
    refusals = []
    for claim, day in (
        (before, today - dt.timedelta(days=1)),
        (after, scheme.claims_close + dt.timedelta(days=1)),
    ):
        with pytest.raises(ClaimError) as refused:
            services.claim_submit(
                claim_id=claim.pk,
                actor=Actor.claimant(claim.pk),
                statement_of_truth=True,
                today=day,
            )
        refusals.append(refused.value.code)

    assert refusals == ["outside_claim_window", "outside_claim_window"]
    assert locked == [before.pk, after.pk]  # the statement stepped aside; the rules explained
    for claim in (first_day, last_day, before, after):
        claim.refresh_from_db()
    assert first_day.stage == last_day.stage == Stage.SUBMITTED
    assert after.stage == Stage.DRAFT and after.version == version
    assert not after.events.filter(action="submit").exists()
    assert not after.status_updates.exists() and not after.letter_requests.exists()


@pytest.mark.django_db
def test_an_erased_draft_cannot_be_submitted_or_changed() -> None:
    from claims.actions import privacy

    claim = draft_with_a_loss(SchemeFactory())
    privacy.claim_erase_draft(claim_id=claim.pk, actor=Actor.system(), reason="Abandoned")
    actor = Actor.claimant(claim.pk)

    with pytest.raises(ClaimError) as submitting:
        services.claim_submit(claim_id=claim.pk, actor=actor, statement_of_truth=True)
    with pytest.raises(ClaimError) as changing:
        services.claim_update_details(
            claim_id=claim.pk, actor=actor, page="contact", phone="07700 900123"
        )

    assert submitting.value.code == changing.value.code == "erased"
    claim.refresh_from_db()
    assert claim.stage == Stage.DRAFT and claim.phone == ""
    assert not claim.status_updates.exists() and not claim.letter_requests.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_statement_still_works_once_prepared_after_a_column_is_added() -> None:
    """psycopg prepares a statement a connection has run five times, and PostgreSQL
    refuses to run a prepared statement whose result's columns changed (as `RETURNING *`
    would after a deploy's migration, run from another connection), so the statement
    names the claim's columns."""
    scheme = SchemeFactory()
    claims = [draft_with_a_loss(scheme) for _ in range(7)]
    for claim in claims[:6]:
        services.claim_submit(
            claim_id=claim.pk, actor=Actor.claimant(claim.pk), statement_of_truth=True
        )
    table = Claim._meta.db_table
    _from_another_connection(f'ALTER TABLE "{table}" ADD COLUMN added_later integer')
    try:
        services.claim_submit(
            claim_id=claims[6].pk, actor=Actor.claimant(claims[6].pk), statement_of_truth=True
        )
    finally:
        _from_another_connection(f'ALTER TABLE "{table}" DROP COLUMN added_later')

    claims[6].refresh_from_db()
    assert claims[6].stage == Stage.SUBMITTED


def _from_another_connection(sql: str) -> None:
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(sql)
        other.commit()
    finally:
        other.close()


@pytest.mark.django_db
def test_at_once_refuses_another_claims_claimant_and_an_empty_claim() -> None:
    scheme = SchemeFactory()
    claim, other = draft_with_a_loss(scheme), draft_claim(scheme)

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
    claim = draft_with_a_loss(SchemeFactory())
    actor = Actor.claimant(claim.pk)
    locked_path = _locked_path_calls(monkeypatch)

    changed, submitted = race(
        lambda: services.claim_update_details(
            claim_id=claim.pk, actor=actor, page="contact", phone="07700 900123"
        ),
        lambda: services.claim_submit(claim_id=claim.pk, actor=actor, statement_of_truth=True),
        monkeypatch,
        hold_after=(services, "_lock_draft"),
    )

    assert not isinstance(changed, ClaimError)
    assert isinstance(submitted, Claim) and locked_path == [claim.pk]
    claim.refresh_from_db()
    assert claim.stage == Stage.SUBMITTED and claim.phone == "07700 900123"
    assert claim.events.filter(action="submit").count() == 1
    assert claim.status_updates.count() == 1 and claim.letter_requests.count() == 1
