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
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from claims.core import Actor, ClaimError, check_staff
from claims.models import NoticeCampaign, RegisterEntry, Scheme
from claims.outbox import publish_on_commit

log = logging.getLogger(__name__)

PLAN_TASK = "claims.tasks.notice_campaign_plan"
CHUNK_TASK = "claims.tasks.notice_chunk_send"
ACTIVE = (NoticeCampaign.State.RUNNING, NoticeCampaign.State.PAUSED)


def _check_may_send(user: Any) -> None:
    check_staff(Actor.staff(user), "claims.send_notices", doing="sending notices")


def unsent_entries(campaign: NoticeCampaign) -> QuerySet[RegisterEntry]:
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
    campaign.total = unsent_entries(campaign).count()
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


def lock_campaign(campaign_id: int) -> NoticeCampaign:
    campaign = NoticeCampaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise ClaimError("There is no such notice campaign.", code="not_found")
    return campaign


@transaction.atomic
def notice_campaign_pause(*, campaign_id: int, user: Any) -> NoticeCampaign:
    _check_may_send(user)
    campaign = lock_campaign(campaign_id)
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
    campaign = lock_campaign(campaign_id)
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
            campaign = lock_campaign(campaign_id)
            if campaign.state == NoticeCampaign.State.RUNNING and campaign.updated_at < cutoff:
                log.warning("Notice campaign %s stalled; planning it again", campaign_id)
                _replan(campaign)
                revived += 1
    return revived


def notice_campaign_remaining(campaign: NoticeCampaign) -> int:
    return unsent_entries(campaign).count()
