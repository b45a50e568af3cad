"""Manual overrides: a supervisor or QA overruling what the line decided (forcing a reject
gate, accepting a held unit…). Recorded as an `events` entry with the reason, signed by the
person (`manual_override`, `Meaning.APPROVED`), and raised as a `manual_override` exception so
QA sees it at review."""

from __future__ import annotations

from sqlalchemy import Connection

from ebr.execution.context import Context, actor_of
from ebr.execution.entries import Entries, NewEntry
from ebr.execution.errors import ExecutionError
from ebr.execution.exceptions import raise_in
from ebr.execution.kinds import ExceptionKind, Severity, Source
from ebr.execution.signing import (
    ENTRY_OBJECT,
    MANUAL_OVERRIDE_ACTION,
    SignatureRequest,
    sign,
    signer_ready,
)
from ebr.signatures import Meaning
from ebr.users import Role

SECTION = "events"
NAME = "manual_override"
OVERRIDERS = frozenset({Role.SUPERVISOR, Role.QA})


def manual_override(
    ctx: Context, entries: Entries, batch_id: int, what: str, reason: str, request: SignatureRequest
) -> int:
    """Record and sign the override; returns its entry's id."""
    for name, text in (("what was overridden", what), ("a reason", reason)):
        if not text or not text.strip():
            raise ExecutionError(
                f"batch {batch_id}: a manual override needs {name}",
                hint="say what the line decided, what was done instead, and why",
            )
    signer = signer_ready(
        ctx,
        request,
        roles=OVERRIDERS,
        what="a manual override",
        subject=(ENTRY_OBJECT, f"{batch_id}:{NAME}"),
    )
    actor = actor_of(signer)

    def raise_exception(conn: Connection, entry_id: int) -> None:
        raise_in(
            conn,
            ctx,
            batch_id,
            ExceptionKind.MANUAL_OVERRIDE,
            Severity.MAJOR,
            f"manual override by {signer.username}: {what}",
            entry_id,
            actor,
        )

    entry_id = entries.record(
        NewEntry(batch_id, SECTION, NAME, {"what": what}, Source.MANUAL, signer, reason=reason),
        then=raise_exception,
    )
    sign(
        ctx,
        request,
        action=MANUAL_OVERRIDE_ACTION,
        object_type=ENTRY_OBJECT,
        object_id=entry_id,
        meaning=Meaning.APPROVED,
    )
    return entry_id
