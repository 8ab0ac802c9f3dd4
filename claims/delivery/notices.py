"""Sending the notice campaign's emails, a chunk of the register at a time.

claims.actions.notices starts, pauses and resumes a campaign; this plans and sends it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from claims.actions.notices import CHUNK_TASK, lock_campaign, unsent_entries
from claims.delivery.emails import describe_error, is_permanent, make_email, message_id
from claims.models import NoticeCampaign, RegisterEntry, Scheme
from claims.outbox import publish_on_commit

# How many sends between looks at the campaign (paused?) and progress updates.
CHECK_EVERY = 20


@transaction.atomic
def notice_campaign_plan(*, campaign_id: int, generation: int) -> int:
    """Split what is left to send into chunks and queue them. Returns how many chunks."""
    campaign = lock_campaign(campaign_id)
    if campaign.state != NoticeCampaign.State.RUNNING or campaign.generation != generation:
        return 0
    ids = list(unsent_entries(campaign).order_by("pk").values_list("pk", flat=True))
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
        unsent_entries(campaign)
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
    campaign = lock_campaign(campaign_id)
    if campaign.generation != generation:
        return
    campaign.chunks_done += 1
    campaign.updated_at = timezone.now()
    # The live counts are increments a chunk adds as it goes; one lost (a task killed
    # between committing a send and recording it) would stay lost. The entries are the
    # record, so each chunk's end sets the totals from them.
    campaign.sent, campaign.failed = _counted(campaign)
    if campaign.state == NoticeCampaign.State.RUNNING and not unsent_entries(campaign).exists():
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
            unsent_entries(campaign)
            .filter(pk__gte=first_id, pk__lte=last_id)
            .update(notice_failed_at=timezone.now(), notice_error=error[:300])
        )
        NoticeCampaign.objects.filter(pk=campaign_id).update(last_error=error)
    _record_progress(campaign_id, 0, given_up)
    notice_chunk_done(campaign_id=campaign_id, generation=generation)
    return given_up
