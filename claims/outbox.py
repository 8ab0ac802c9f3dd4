"""The outbox: rows written with the change they report, published once it commits."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
from collections.abc import Iterator
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from claims.domain.letters import letter_kind_for
from claims.models import (
    AuditEvent,
    Claim,
    LetterBatch,
    LetterRequest,
    StaffDigest,
    StatusUpdate,
)

log = logging.getLogger(__name__)

# Celery's own limit on the repr of a message's arguments.
ARGSREPR_LIMIT = 1024


def publish(task_name: str, *args: Any) -> bool:
    """Put a task on the broker now. False, logged, if the broker cannot be reached:
    the caller's row is still pending and the sweeper will queue it again. The retry
    policy in settings keeps a dead broker from holding up the request for long."""
    from config.celery import app

    try:
        # By name: the web process need not import the task modules. The arguments' repr
        # (for the worker's log) is ours, not Celery's saferepr, which costs each message
        # a tenth of a millisecond: they are ids and lists of them, never anything secret.
        app.send_task(task_name, args=args, argsrepr=repr(args)[:ARGSREPR_LIMIT], kwargsrepr="{}")
    except Exception:
        log.warning(
            "Could not queue %s%r; the outbox sweeper will try again.",
            task_name,
            args,
            exc_info=True,
        )
        return False
    return True


def publish_on_commit(task_name: str, *args: Any) -> None:
    together = _together.get()
    if together is not None:
        together.append([task_name, list(args)])
        return
    # robust: a failure here must never turn a committed request into an error page.
    transaction.on_commit(partial(publish, task_name, *args), robust=True)


# Each message costs a web request about half a millisecond of CPU in Celery and kombu;
# a change that queues several sends them as one (see `published_together`).
_together: contextvars.ContextVar[list[list[Any]] | None] = contextvars.ContextVar(
    "redress_published_together", default=None
)


PUBLISH_TOGETHER_TASK = "claims.tasks.publish_together"


@contextlib.contextmanager
def published_together() -> Iterator[None]:
    """Within this block (inside a transaction), the tasks `publish_on_commit` is asked
    for go to the broker after commit as one message, a `publish_together` task that a
    worker turns into the messages themselves. Nothing is lost if that message is: every
    task queued this way is a nudge for a row its own sweeper finds anyway. A savepoint
    rolled back inside the block must not queue anything (the services' never do)."""
    outer = _together.get()
    if outer is not None:
        yield  # already inside a block: one message for all
        return
    messages: list[list[Any]] = []
    token = _together.set(messages)
    try:
        yield
    finally:
        _together.reset(token)
    if len(messages) == 1:
        ((task_name, args),) = messages
        publish_on_commit(task_name, *args)
    elif messages:
        publish_on_commit(PUBLISH_TOGETHER_TASK, messages)


def publish_each(messages: list[list[Any]]) -> int:
    """Publish each [task name, args] of a `publish_together` message; how many went.
    Only our own tasks: the message came from the broker."""
    sent = 0
    for task_name, args in messages:
        if not str(task_name).startswith("claims.tasks.") or task_name == PUBLISH_TOGETHER_TASK:
            log.warning("publish_together: refused to publish %r", task_name)
            continue
        sent += publish(task_name, *args)
    return sent


STATUS_UPDATE_TASK = "claims.tasks.status_update_send"


STAFF_DIGEST_TASK = "claims.tasks.staff_digest_send"


def status_update_add(
    *,
    claim: Claim,
    kind: str,
    stage: str,
    event: AuditEvent | None = None,
    dedupe_key: str | None = None,
    recipient: str = "",
) -> StatusUpdate | None:
    """Write a status update in the caller's transaction and queue it once that commits.

    With a `dedupe_key`, a second call with the same key writes nothing and returns
    None, so a clock job run twice sends one reminder."""
    fields = {"claim": claim, "event": event, "kind": kind, "stage": stage, "recipient": recipient}
    now = timezone.now()
    if dedupe_key is None:
        update = StatusUpdate.objects.create(**fields, next_attempt_at=now)
    else:
        if StatusUpdate.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        try:
            with transaction.atomic():
                update = StatusUpdate.objects.create(
                    **fields, dedupe_key=dedupe_key, next_attempt_at=now
                )
        except IntegrityError:
            return None  # another run of the same job wrote it first
    publish_on_commit(STATUS_UPDATE_TASK, update.pk)
    return update


def staff_digest_add(*, user_id: int, day: dt.date, claim_count: int) -> StaffDigest | None:
    """Write today's digest for one person and queue it; None if it was already written."""
    if StaffDigest.objects.filter(user_id=user_id, day=day).exists():
        return None
    try:
        with transaction.atomic():
            digest = StaffDigest.objects.create(
                user_id=user_id, day=day, claim_count=claim_count, next_attempt_at=timezone.now()
            )
    except IntegrityError:
        return None
    publish_on_commit(STAFF_DIGEST_TASK, digest.pk)
    return digest


_OUTBOXES: tuple[tuple[type[StatusUpdate] | type[StaffDigest], str], ...] = (
    (StatusUpdate, STATUS_UPDATE_TASK),
    (StaffDigest, STAFF_DIGEST_TASK),
)


def outbox_sweep(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Queue again every pending email whose attempt is overdue by OUTBOX_SWEEP_AFTER_SECONDS:
    its message was lost to a broker outage, a worker crash or the file broker's restart.

    Each row swept is given a fresh due time, so a row is re-queued at most once per
    sweep interval however slow its worker; a duplicate message sends nothing (see
    `_deliver`). Returns how many tasks were queued."""
    now = now or timezone.now()
    return sum(
        requeue_overdue(model, task_name, now=now, limit=limit) for model, task_name in _OUTBOXES
    )


def requeue_overdue(model: Any, task_name: str, *, now: dt.datetime, limit: int) -> int:
    """Publish again the pending rows of an outbox table (state, next_attempt_at,
    created_at) overdue by OUTBOX_SWEEP_AFTER_SECONDS; each gets a fresh due time, so it
    is re-queued at most once a sweep. Returns how many tasks were queued."""
    cutoff = now - dt.timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    with transaction.atomic():
        # skip_locked: a row locked right now is being sent.
        overdue = (
            model.objects.select_for_update(skip_locked=True)
            .filter(state="pending")
            .filter(
                Q(next_attempt_at__lt=cutoff)
                | Q(next_attempt_at__isnull=True, created_at__lt=cutoff)
            )
            .order_by("created_at")
        )
        ids = list(overdue.values_list("pk", flat=True)[:limit])
        model.objects.filter(pk__in=ids).update(next_attempt_at=now)
    if ids:
        log.warning("Outbox sweep: queueing %s %s row(s) again", len(ids), model.__name__)
    return sum(publish(task_name, pk) for pk in ids)


LETTER_TASK = "claims.tasks.letter_generate"


LETTER_BATCH_TASK = "claims.tasks.letter_batch_queue"


def letter_request_add(
    *,
    claim: Claim,
    kind: str,
    event: AuditEvent | None = None,
    batch: LetterBatch | None = None,
) -> LetterRequest:
    """Ask for a letter in the caller's transaction; it is queued once that commits."""
    request = LetterRequest.objects.create(
        claim=claim, kind=kind, event=event, batch=batch, next_attempt_at=timezone.now()
    )
    publish_on_commit(LETTER_TASK, request.pk)
    return request


def letters_for_transition(*, claim: Claim, event: AuditEvent) -> LetterRequest | None:
    """The letter a stage change sends, if it sends one (`AUTOMATIC_LETTERS`). Called by
    the services inside the change's own transaction."""
    kind = letter_kind_for(event)
    if kind is None:
        return None
    return letter_request_add(claim=claim, kind=kind, event=event)
