"""The line clearance's e-signature: the operator signs the journal entry that records the
confirmed checklist (meaning "performed"), so the signature binds exactly what was confirmed.

A journal entry never changes, so the signature verifies for the life of the record
(`ESignatures.verify("journal_entry", "<batch>:<seq>")`).
"""

from __future__ import annotations

from collections.abc import Callable

from ebr.audit.trail import AuditTrail
from ebr.signatures import ESignatures, Meaning, Requirement
from ebr.users import Session, Users

CLEARANCE_ACTION = "line_clearance"
ClearanceSigner = Callable[[int, int], None]
"""Signs the clearance entry `(batch id, journal seq)`; raises `UserError` when it cannot."""


def clearance_signer(
    users: Users, trail: AuditTrail, session: Session, password: str
) -> ClearanceSigner:
    """A signer for the logged-in `session`, with the user ID and password the user gave
    (21 CFR 11.200: both components for the first signature of a session)."""
    signatures = ESignatures(users, trail, {CLEARANCE_ACTION: Requirement.SINGLE})
    current = [session]

    def sign(batch_id: int, seq: int) -> None:
        current[0], _ = signatures.sign(
            current[0],
            action=CLEARANCE_ACTION,
            object_type="journal_entry",
            object_id=f"{batch_id}:{seq}",
            meaning=Meaning.PERFORMED,
            password=password,
            username=session.username,
        )

    return sign
