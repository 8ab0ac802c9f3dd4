"""Staff roles are Django groups, created by migration 0002 with exactly these rights."""

from __future__ import annotations

CASEWORKER = "Caseworker"
SENIOR_CASEWORKER = "Senior caseworker"
FINANCE_OFFICER = "Finance officer"
SCHEME_ADMINISTRATOR = "Scheme administrator"

ROLES = (CASEWORKER, SENIOR_CASEWORKER, FINANCE_OFFICER, SCHEME_ADMINISTRATOR)
