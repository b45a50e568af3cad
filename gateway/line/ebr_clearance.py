"""The second person of a line clearance: a verifier signs the same journal entry the operator
signed (the confirmed checklist), with the meaning "verified".

Both signatures are the clearance action's, which the verifier's signatures treat as a dual
signature, so the signatures service itself refuses a verifier who is the operator who signed,
and a third signature. The batch record's clearance step is completed only once verified.
"""

from __future__ import annotations

from collections.abc import Callable

from ebr.audit.trail import AuditTrail
from ebr.signatures import ESignatures, Meaning, Requirement, SignatureInfo
from ebr.users import Session, Users
from gateway.line.clearance import CLEARANCE_ACTION

ClearanceVerifier = Callable[[int, int], SignatureInfo]
"""Signs the clearance entry `(batch id, journal seq)` as verified; raises `UserError` when it
cannot (wrong password, the operator who signed, an administrator)."""


def clearance_verifier(
    users: Users, trail: AuditTrail, session: Session, password: str
) -> ClearanceVerifier:
    """A verifier for the logged-in `session`, with the user ID and password the person gave."""
    signatures = ESignatures(users, trail, {CLEARANCE_ACTION: Requirement.DUAL})
    current = [session]

    def verify(batch_id: int, seq: int) -> SignatureInfo:
        current[0], signature = signatures.sign(
            current[0],
            action=CLEARANCE_ACTION,
            object_type="journal_entry",
            object_id=f"{batch_id}:{seq}",
            meaning=Meaning.VERIFIED,
            password=password,
            username=session.username,
        )
        return signature

    return verify
