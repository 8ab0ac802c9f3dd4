"""Access audit: every staff look at a claim's page, an evidence file or full bank
details is one StaffAccess row (who, what, when); supervisors list them in the admin
("Staff access log", searchable by claim reference, filtered by claim)."""

from __future__ import annotations

from typing import Any

from claims.models import StaffAccess


def staff_access_record(
    *, claim_id: int, user: Any, what: str, object_id: int | None = None
) -> None:
    """One INSERT, nothing read first: it sits on the claim page's fixed query budget."""
    StaffAccess.objects.create(claim_id=claim_id, user=user, what=what, object_id=object_id)
