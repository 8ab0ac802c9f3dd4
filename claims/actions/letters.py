"""Staff's letter writes: making chosen claims' letters again, as a batch."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from claims.domain.letters import AUTOMATIC_LETTERS
from claims.models import (
    Claim,
    LetterBatch,
    LetterRequest,
)
from claims.outbox import LETTER_BATCH_TASK, publish_on_commit
from claims.queries.letters import latest_letter_event_subquery


@transaction.atomic
def letter_batch_create(*, claims: QuerySet[Claim], user: Any) -> LetterBatch:
    """Make each chosen claim's latest letter again (after a template change, say), as a
    new version. Claims whose history has no letter yet are counted as skipped. The
    requests are queued by one task (`letter_batch_queue`), so choosing every claim of a
    scheme costs the admin request a few inserts, not a message per claim."""
    latest = latest_letter_event_subquery()
    # Only the chosen ids from the list's queryset: its own annotations and joins stay out.
    chosen = Claim.objects.filter(pk__in=claims.order_by().values("pk"))
    rows = chosen.order_by("pk").annotate(
        letter_event_id=Subquery(latest.values("pk")[:1]),
        letter_action=Subquery(latest.values("action")[:1]),
    )
    batch = LetterBatch.objects.create(created_by=user)
    now = timezone.now()
    requests = []
    for claim_id, event_id, action in rows.values_list("pk", "letter_event_id", "letter_action"):
        if event_id is None:
            batch.skipped += 1
            continue
        requests.append(
            LetterRequest(
                claim_id=claim_id,
                kind=AUTOMATIC_LETTERS[action],
                event_id=event_id,
                batch=batch,
                next_attempt_at=now,
            )
        )
    LetterRequest.objects.bulk_create(requests, batch_size=1000)
    batch.total = len(requests)
    batch.save(update_fields=["total", "skipped"])
    if requests:
        publish_on_commit(LETTER_BATCH_TASK, batch.pk)
    return batch
