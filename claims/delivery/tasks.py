"""Celery tasks: thin wrappers that take ids and call claims.delivery.emails, claims.actions.notices
or claims.actions.clock. Queues are chosen in settings (CELERY_TASK_ROUTES): notifications,
notices, letters and housekeeping.

Every task here is safe to run twice. Settings make delivery at-least-once (late
acknowledgement, requeue when a worker dies); the functions they call make the
effect happen once.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.app.task import Task

from claims import outbox
from claims.actions import clock, flags, notices
from claims.delivery import emails as notifications
from claims.delivery import notices as notice_delivery
from claims.delivery.emails import Outcome

log = logging.getLogger(__name__)


def _deliver_or_retry(task: Task, delivery: notifications.Delivery) -> str:
    if delivery.outcome in {Outcome.RETRY, Outcome.BUSY}:
        # The row's own attempt count decides when to give up, not Celery's (the tasks
        # say max_retries=None: retry(max_retries=None) alone would mean Celery's 3).
        raise task.retry(countdown=delivery.retry_in)
    return delivery.outcome.value


@shared_task(bind=True, name="claims.tasks.status_update_send", max_retries=None)
def status_update_send(self: Task, status_update_id: int) -> str:
    return _deliver_or_retry(self, notifications.status_update_deliver(status_update_id))


@shared_task(bind=True, name="claims.tasks.staff_digest_send", max_retries=None)
def staff_digest_send(self: Task, digest_id: int) -> str:
    return _deliver_or_retry(self, notifications.staff_digest_deliver(digest_id))


@shared_task(name="claims.tasks.publish_together")
def publish_together(messages: list[list[Any]]) -> int:
    return outbox.publish_each(messages)


@shared_task(name="claims.tasks.outbox_sweep")
def outbox_sweep() -> str:
    queued = outbox.outbox_sweep()
    revived = notices.notice_campaigns_revive()
    return f"queued {queued}, revived {revived} campaign(s)"


# --- Notice campaign --------------------------------------------------------------


@shared_task(name="claims.tasks.notice_campaign_plan")
def notice_campaign_plan(campaign_id: int, generation: int) -> int:
    return notice_delivery.notice_campaign_plan(campaign_id=campaign_id, generation=generation)


@shared_task(bind=True, name="claims.tasks.notice_chunk_send", max_retries=None)
def notice_chunk_send(
    self: Task, campaign_id: int, generation: int, first_id: int, last_id: int
) -> str:
    from django.conf import settings

    try:
        return notice_delivery.notice_chunk_send(
            campaign_id=campaign_id, generation=generation, first_id=first_id, last_id=last_id
        )
    except Exception as error:
        attempt = self.request.retries + 1
        if attempt >= settings.EMAIL_MAX_ATTEMPTS:
            # The entries left are marked failed in this campaign; a new campaign tries them.
            notice_delivery.notice_chunk_give_up(
                campaign_id=campaign_id,
                generation=generation,
                first_id=first_id,
                last_id=last_id,
                error=f"Gave up after {attempt} attempts: {notifications.describe_error(error)}",
            )
            log.warning("Notice chunk %s-%s gave up after %s attempts", first_id, last_id, attempt)
            return "gave_up"
        raise self.retry(countdown=notifications.retry_delay(attempt), exc=error) from error


# --- The scheme's clock ------------------------------------------------------------


@shared_task(name="claims.tasks.clock_send_reminders")
def clock_send_reminders() -> int:
    return clock.send_reminders()


@shared_task(name="claims.tasks.clock_close_incomplete")
def clock_close_incomplete() -> int:
    return clock.close_expired_information_requests()


@shared_task(name="claims.tasks.clock_expire_offers")
def clock_expire_offers() -> int:
    return clock.expire_offers()


@shared_task(name="claims.tasks.clock_warn_expiring_offers")
def clock_warn_expiring_offers() -> int:
    return clock.warn_expiring_offers()


@shared_task(name="claims.tasks.clock_send_digests")
def clock_send_digests() -> int:
    return clock.send_digests()


@shared_task(name="claims.tasks.retention_run")
def retention_run() -> int:
    from claims.actions import privacy

    report = privacy.retention_run(dry_run=False)
    for line in report.lines():
        log.info("retention: %s", line)
    return report.erased


@shared_task(name="claims.tasks.retention_report")
def retention_report() -> list[str]:
    """What the retention run would erase, changing nothing (the dry-run report)."""
    from claims.actions import privacy

    lines = privacy.retention_run(dry_run=True).lines()
    for line in lines:
        log.info("retention (dry run): %s", line)
    return lines


# --- Flags ---------------------------------------------------------------------------


@shared_task(name="claims.tasks.claim_flags_check")
def claim_flags_check(claim_id: int) -> str:
    found = flags.claim_flags_check(claim_id=claim_id)
    return "already checked" if found is None else f"{len(found)} flag(s)"


@shared_task(name="claims.tasks.claim_flags_sweep")
def claim_flags_sweep() -> int:
    return flags.claim_flags_sweep()
