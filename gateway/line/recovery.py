"""What a restarted gateway does first: settle every code a killed gateway left unconfirmed.

ACCEPT reaches the PLC only after the unit's Commissioned record is durable, so a code still
Allocated (in the buffer, never printed) or Encoded (sent to the printer, no durable verdict)
belongs to a unit the PLC rejected by itself (fail-safe) or to no unit at all. Both are voided
— Allocated → SNInvalid, Encoded → LabelScrapped — and never handed out again. Whether the
camera saw them does not matter: no verdict was durable, so no unit carrying them was accepted.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from ebr.journal import EventKind, Journal, JournalEvent, JournalWriter
from ebr.line_codes import batch_code_states, keys_in
from gateway.line.ledger import CodeLedger
from gateway.line.plc import GateOutcome, LinePlc, VerdictAck
from serialization.rules import PackagingLevel
from serialization.states import CodeState

UNCONFIRMED = (CodeState.ALLOCATED, CodeState.ENCODED)


async def void_unconfirmed(
    engine: Engine,
    journal: JournalWriter,
    *,
    batch_id: int,
    line_id: str,
    level: PackagingLevel,
    reason: str,
) -> list[str]:
    states = batch_code_states(engine, batch_id, line_id=line_id, level=level)
    keys = keys_in(states, UNCONFIRMED)
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        await journal.append(
            JournalEvent(
                batch_id,
                EventKind.CODES_VOIDED,
                data={"keys": chunk, "reason": reason, "level": level.value},
            )
        )
    return keys


def ledger_from_store(engine: Engine, *, batch_id: int, line_id: str) -> tuple[CodeLedger, int]:
    """The batch's unit codes as a ledger, and how many were voided (never printed)."""
    ledger = CodeLedger()
    voided = 0
    for key, state in batch_code_states(engine, batch_id, line_id=line_id).items():
        if state is CodeState.SN_INVALID:
            voided += 1
            continue
        if state in UNCONFIRMED:
            continue
        ledger.issue(key)
        if state is CodeState.COMMISSIONED:
            ledger.accept(key)
        elif state is CodeState.SAMPLED:
            ledger.sample(key)
        elif state is CodeState.DESTROYED:
            ledger.destroy(key)
        else:
            ledger.reject(key)
    return ledger, voided


async def settle_last_accepts(
    engine: Engine, journal: JournalWriter, plc: LinePlc, *, batch_id: int, last: int = 300
) -> list[str]:
    """Close the one window a crash leaves: an accept durable in the journal that never
    reached the PLC. For the batch's last `last` accepted units the PLC says what its gate did;
    a unit it rejected loses its code (Commissioned → Destroyed); one still on its way gets its
    recorded ACCEPT again, or is rejected if that comes too late. Returns the keys revoked."""
    if not plc.knows_outcomes:
        return []
    entries = await asyncio.to_thread(lambda: list(Journal(engine).entries(batch_id)))
    accepted: dict[str, str] = {}
    for entry in entries:
        event = entry.event
        if event.kind is EventKind.UNIT_ACCEPTED and event.unit_ref and event.code_key:
            accepted[event.code_key] = event.unit_ref
        elif event.kind is EventKind.UNIT_REJECTED and event.code_key:
            accepted.pop(event.code_key, None)
    revoked = []
    for key, unit_ref in list(accepted.items())[-last:]:
        ref = int(unit_ref)
        outcome = await plc.unit_outcome(ref)
        if outcome is GateOutcome.PENDING:
            ack = await plc.set_verdict(ref, True)
            if ack is VerdictAck.APPLIED:
                continue
        elif outcome is GateOutcome.PASSED:
            continue
        revoked.append(key)
        await journal.append(
            JournalEvent(
                batch_id,
                EventKind.UNIT_REJECTED,
                unit_ref=unit_ref,
                code_key=key,
                data={
                    "reason": "rejected_at_gate",
                    "detail": "accepted, but the gateway stopped before the PLC had the verdict",
                },
            )
        )
    return revoked
