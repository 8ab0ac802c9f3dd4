"""Redress's tables, one module per area, all importable from here (`claims.models`).

The choices they store (stages, actor kinds, review states, letter kinds) and the
transition table are plain data in claims.domain.stages. Migrations refer to
claims.models.generate_reference, generate_verification_code and the upload
functions, so those stay importable from here too.
"""

from claims.domain.references import generate_reference, generate_verification_code
from claims.models.claims import (
    Claim,
    Evidence,
    HeadOfLoss,
    Offer,
    OfferItem,
    Review,
    evidence_upload_to,
)
from claims.models.letters import (
    Letter,
    LetterBatch,
    LetterRequest,
    letter_upload_to,
)
from claims.models.outbox import (
    NoticeCampaign,
    StaffDigest,
    StatusUpdate,
)
from claims.models.payments import (
    BankDetails,
    Payment,
    PaymentBatch,
)
from claims.models.record import (
    AccessLink,
    AuditEvent,
    ClaimFlag,
    ClaimMatchKey,
    InternalNote,
    Message,
    StaffAccess,
)
from claims.models.schemes import (
    LETTER_LOGO_MAX_BYTES,
    DistressBand,
    RegisterEntry,
    Scheme,
    letter_logo_upload_to,
    validate_letter_logo,
)

__all__ = [
    "LETTER_LOGO_MAX_BYTES",
    "AccessLink",
    "AuditEvent",
    "BankDetails",
    "Claim",
    "ClaimFlag",
    "ClaimMatchKey",
    "DistressBand",
    "Evidence",
    "HeadOfLoss",
    "InternalNote",
    "Letter",
    "LetterBatch",
    "LetterRequest",
    "Message",
    "NoticeCampaign",
    "Offer",
    "OfferItem",
    "Payment",
    "PaymentBatch",
    "RegisterEntry",
    "Review",
    "Scheme",
    "StaffAccess",
    "StaffDigest",
    "StatusUpdate",
    "evidence_upload_to",
    "generate_reference",
    "generate_verification_code",
    "letter_logo_upload_to",
    "letter_upload_to",
    "validate_letter_logo",
]
