"""The notice campaign: every person on a scheme's register emailed their notice code.

A scheme administrator starts it from the admin. A planning task splits the
register entries still without a notice into chunks of NOTICE_CHUNK_SIZE (by id
range) and queues one task per chunk on the `notices` queue, so any number of
workers share the work and a claimant's status update never waits behind a
26,000-email campaign. Each chunk keeps one connection to the provider open.

Never two notices to one person: before each send the entry's row is locked and
`notice_sent_at` checked, and it is set in the same transaction as the send.
Pausing stops chunks within a few sends; resuming plans again from what is left
under a new `generation`, so chunks from before the pause stop if they ever run.
An address that can never work is recorded on the entry (`notice_error`) and
counted as failed; the next campaign tries it again, this one does not.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from claims.core import Actor, ClaimError, check_staff
from claims.models import NoticeCampaign, RegisterEntry, Scheme
from claims.notifications import describe_error, is_permanent, make_email, message_id
from claims.outbox import publish_on_commit

log = logging.getLogger(__name__)

PLAN_TASK = "claims.tasks.notice_campaign_plan"
CHUNK_TASK = "claims.tasks.notice_chunk_send"
# How many sends between looks at the campaign (paused?) and progress updates.
CHECK_EVERY = 20
ACTIVE = (NoticeCampaign.State.RUNNING, NoticeCampaign.State.PAUSED)


def _check_may_send(user: Any) -> None:
    check_staff(Actor.staff(user), "claims.send_notices", doing="sending notices")


def _unsent(campaign: NoticeCampaign) -> QuerySet[RegisterEntry]:
    """Entries this campaign still has to send to: no notice yet, an email address, and
    no failure in this campaign (earlier campaigns' failures are tried again)."""
    return (
        RegisterEntry.objects.filter(scheme_id=campaign.scheme_id, notice_sent_at__isnull=True)
        .exclude(email="")
        .filter(Q(notice_failed_at__isnull=True) | Q(notice_failed_at__lt=campaign.created_at))
    )


def _new_campaign(scheme_id: int, user: Any, *, lock: bool) -> NoticeCampaign:
    _check_may_send(user)
    schemes = Scheme.objects.select_for_update() if lock else Scheme.objects.all()
    scheme = schemes.filter(pk=scheme_id).first()
    if scheme is None:
        raise ClaimError("There is no such scheme.", code="not_found")
    if scheme.notice_campaigns.filter(state__in=ACTIVE).exists():
        raise ClaimError(
            "This scheme already has a notice campaign running or paused: resume that one.",
            code="campaign_active",
        )
    now = timezone.now()
    campaign = NoticeCampaign(scheme=scheme, created_by=user, created_at=now, updated_at=now)
    campaign.total = _unsent(campaign).count()
    if campaign.total == 0:
        raise ClaimError(
            "Everyone on this scheme's register with an email address has been sent a notice.",
            code="nothing_to_send",
        )
    return campaign


def notice_campaign_check(*, scheme_id: int, user: Any) -> None:
    """Raise the ClaimError that starting a campaign now would raise; write nothing."""
    _new_campaign(scheme_id, user, lock=False)


@transaction.atomic
def notice_campaign_start(*, scheme_id: int, user: Any) -> NoticeCampaign:
    # The scheme's row is the lock that stops two administrators starting two campaigns.
    campaign = _new_campaign(scheme_id, user, lock=True)
    campaign.save()
    publish_on_commit(PLAN_TASK, campaign.pk, campaign.generation)
    return campaign


def _lock_campaign(campaign_id: int) -> NoticeCampaign:
    campaign = NoticeCampaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise ClaimError("There is no such notice campaign.", code="not_found")
    return campaign


@transaction.atomic
def notice_campaign_pause(*, campaign_id: int, user: Any) -> NoticeCampaign:
    _check_may_send(user)
    campaign = _lock_campaign(campaign_id)
    if campaign.state != NoticeCampaign.State.RUNNING:
        raise ClaimError("Only a running campaign can be paused.", code="not_running")
    campaign.state = NoticeCampaign.State.PAUSED
    campaign.updated_at = timezone.now()
    campaign.save(update_fields=["state", "updated_at"])
    return campaign


def _replan(campaign: NoticeCampaign) -> None:
    campaign.state = NoticeCampaign.State.RUNNING
    campaign.generation += 1
    campaign.chunks_total = campaign.chunks_done = 0
    campaign.updated_at = timezone.now()
    campaign.save(
        update_fields=["state", "generation", "chunks_total", "chunks_done", "updated_at"]
    )
    publish_on_commit(PLAN_TASK, campaign.pk, campaign.generation)


@transaction.atomic
def notice_campaign_resume(*, campaign_id: int, user: Any) -> NoticeCampaign:
    _check_may_send(user)
    campaign = _lock_campaign(campaign_id)
    if campaign.state != NoticeCampaign.State.PAUSED:
        raise ClaimError("Only a paused campaign can be resumed.", code="not_paused")
    _replan(campaign)
    return campaign


def notice_campaigns_revive(*, now: dt.datetime | None = None) -> int:
    """Plan again each running campaign that has made no progress for
    OUTBOX_SWEEP_AFTER_SECONDS: its tasks were lost (broker outage, worker crash)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    stalled = NoticeCampaign.objects.filter(
        state=NoticeCampaign.State.RUNNING, updated_at__lt=cutoff
    ).values_list("pk", flat=True)
    revived = 0
    for campaign_id in stalled:
        with transaction.atomic():
            campaign = _lock_campaign(campaign_id)
            if campaign.state == NoticeCampaign.State.RUNNING and campaign.updated_at < cutoff:
                log.warning("Notice campaign %s stalled; planning it again", campaign_id)
                _replan(campaign)
                revived += 1
    return revived


@transaction.atomic
def notice_campaign_plan(*, campaign_id: int, generation: int) -> int:
    """Split what is left to send into chunks and queue them. Returns how many chunks."""
    campaign = _lock_campaign(campaign_id)
    if campaign.state != NoticeCampaign.State.RUNNING or campaign.generation != generation:
        return 0
    ids = list(_unsent(campaign).order_by("pk").values_list("pk", flat=True))
    size = settings.NOTICE_CHUNK_SIZE
    chunks = [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
    campaign.chunks_total = len(chunks)
    campaign.chunks_done = 0
    campaign.updated_at = timezone.now()
    if not chunks:
        campaign.state = NoticeCampaign.State.FINISHED
        campaign.finished_at = campaign.updated_at
    campaign.save()
    for first_id, last_id in chunks:
        publish_on_commit(CHUNK_TASK, campaign.pk, generation, first_id, last_id)
    return len(chunks)


def _is_current(campaign_id: int, generation: int) -> bool:
    return NoticeCampaign.objects.filter(
        pk=campaign_id, generation=generation, state=NoticeCampaign.State.RUNNING
    ).exists()


def _record_progress(campaign_id: int, sent: int, failed: int) -> None:
    NoticeCampaign.objects.filter(pk=campaign_id).update(
        sent=F("sent") + sent, failed=F("failed") + failed, updated_at=timezone.now()
    )


def notice_context(entry: RegisterEntry, scheme: Scheme) -> dict[str, Any]:
    return {
        "name": entry.full_name,
        "notice_code": entry.notice_code,
        "scheme_name": scheme.name,
        "organisation": scheme.organisation,
        "incident_summary": scheme.incident_summary,
        "breach_start": scheme.breach_start,
        "breach_end": scheme.breach_end,
        "claims_close": scheme.claims_close,
        "claim_url": f"{settings.SITE_URL}/",
        "contact_phone": scheme.contact_phone,
        "contact_email": scheme.contact_email,
    }


def _send_one(entry_id: int, campaign: NoticeCampaign, connection: Any) -> bool | None:
    """Send one entry its notice: True sent, False failed for good, None nothing to do.
    A provider error worth retrying is raised, for the chunk to be retried."""
    with transaction.atomic():
        entry = RegisterEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None or entry.notice_sent_at is not None:
            return None
        if entry.notice_failed_at is not None and entry.notice_failed_at >= campaign.created_at:
            return None
        now = timezone.now()
        try:
            make_email(
                "notice",
                entry.email,
                notice_context(entry, campaign.scheme),
                message_id=message_id("notice", entry.pk),
                reply_to=campaign.scheme.contact_email,
                connection=connection,
            ).send()
        except Exception as error:
            if not is_permanent(error):
                raise
            entry.notice_failed_at = now
            entry.notice_error = describe_error(error)[:300]
            entry.save(update_fields=["notice_failed_at", "notice_error"])
            return False
        entry.notice_sent_at = now
        entry.notice_error = ""
        entry.save(update_fields=["notice_sent_at", "notice_error"])
        return True


def notice_chunk_send(*, campaign_id: int, generation: int, first_id: int, last_id: int) -> str:
    """Send the notices of one chunk. Raises a provider error worth retrying; what was sent
    before it stays sent, so the retry carries on where this stopped."""
    campaign = NoticeCampaign.objects.select_related("scheme").filter(pk=campaign_id).first()
    if campaign is None or not _is_current(campaign_id, generation):
        return "stale"
    ids = list(
        _unsent(campaign)
        .filter(pk__gte=first_id, pk__lte=last_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    sent = failed = 0
    connection = get_connection()
    try:
        connection.open()
        for index, entry_id in enumerate(ids):
            if index and index % CHECK_EVERY == 0:
                _record_progress(campaign_id, sent, failed)
                sent = failed = 0
                if not _is_current(campaign_id, generation):
                    return "paused"
            outcome = _send_one(entry_id, campaign, connection)
            sent += outcome is True
            failed += outcome is False
    finally:
        _record_progress(campaign_id, sent, failed)
        connection.close()
    notice_chunk_done(campaign_id=campaign_id, generation=generation)
    return "done"


@transaction.atomic
def notice_chunk_done(*, campaign_id: int, generation: int) -> None:
    """A chunk has ended. The campaign is finished once no entry is left to send: found from
    the entries themselves, so a chunk the broker delivers twice cannot end it early."""
    campaign = _lock_campaign(campaign_id)
    if campaign.generation != generation:
        return
    campaign.chunks_done += 1
    campaign.updated_at = timezone.now()
    # The live counts are increments a chunk adds as it goes; one lost (a task killed
    # between committing a send and recording it) would stay lost. The entries are the
    # record, so each chunk's end sets the totals from them.
    campaign.sent, campaign.failed = _counted(campaign)
    if campaign.state == NoticeCampaign.State.RUNNING and not _unsent(campaign).exists():
        campaign.state = NoticeCampaign.State.FINISHED
        campaign.finished_at = campaign.updated_at
    campaign.save(
        update_fields=["chunks_done", "updated_at", "state", "finished_at", "sent", "failed"]
    )


def _counted(campaign: NoticeCampaign) -> tuple[int, int]:
    """Notices this campaign sent, and entries it gave up on, from the register itself."""
    entries = RegisterEntry.objects.filter(scheme_id=campaign.scheme_id)
    counts = entries.aggregate(
        sent=Count("pk", filter=Q(notice_sent_at__gte=campaign.created_at)),
        failed=Count(
            "pk",
            filter=Q(notice_sent_at__isnull=True, notice_failed_at__gte=campaign.created_at),
        ),
    )
    return counts["sent"], counts["failed"]


def notice_chunk_give_up(
    *, campaign_id: int, generation: int, first_id: int, last_id: int, error: str
) -> int:
    """After its last attempt, a chunk marks the entries it could not send as failed in this
    campaign (a later campaign tries them again), so the campaign can finish."""
    campaign = NoticeCampaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return 0
    with transaction.atomic():
        given_up = (
            _unsent(campaign)
            .filter(pk__gte=first_id, pk__lte=last_id)
            .update(notice_failed_at=timezone.now(), notice_error=error[:300])
        )
        NoticeCampaign.objects.filter(pk=campaign_id).update(last_error=error)
    _record_progress(campaign_id, 0, given_up)
    notice_chunk_done(campaign_id=campaign_id, generation=generation)
    return given_up


def notice_campaign_remaining(campaign: NoticeCampaign) -> int:
    return _unsent(campaign).count()
