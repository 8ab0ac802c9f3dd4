"""Staff's writes to the email outbox."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from claims.models import (
    StaffDigest,
    StatusUpdate,
)
from claims.outbox import STAFF_DIGEST_TASK, STATUS_UPDATE_TASK, publish_on_commit


def outbox_resend(
    *, model: type[StatusUpdate] | type[StaffDigest], ids: list[int], actor: Any
) -> int:
    """Put failed emails back in the outbox for another full set of attempts: the admin's
    "send again". Rows that are pending or sent are left alone. Returns how many."""
    from claims.core import Actor, record_event

    task_name = STATUS_UPDATE_TASK if model is StatusUpdate else STAFF_DIGEST_TASK
    resent = 0
    with transaction.atomic():
        rows = model.objects.select_for_update().filter(pk__in=ids, state=StatusUpdate.State.FAILED)
        for row in rows:
            row.state = StatusUpdate.State.PENDING
            row.attempts = 0
            row.next_attempt_at = timezone.now()
            row.save(update_fields=["state", "attempts", "next_attempt_at"])
            if isinstance(row, StatusUpdate):
                record_event(
                    row.claim,
                    action="status_update_resend",
                    actor=Actor.staff(actor),
                    data={"status_update": row.pk, "kind": row.kind},
                )
            publish_on_commit(task_name, row.pk)
            resent += 1
    return resent
