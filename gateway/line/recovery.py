"""What a restarted gateway does first: settle every code a killed gateway left unconfirmed.

ACCEPT reaches the PLC only after the unit's Commissioned record is durable, so a code still
Allocated (in the buffer, never printed) or Encoded (sent to the printer, no durable verdict)
belongs to a unit the PLC rejected by itself (fail-safe) or to no unit at all. Both are voided
— Allocated → SNInvalid, Encoded → LabelScrapped — and never handed out again. Whether the
camera saw them does not matter: no verdict was durable, so no unit carrying them was accepted.

The restart is then recorded (`record_restart`) with what the gateway found on its way back: the
batch's journal and the site's whole audit trail re-verified, and what the upward outbox still
holds for each uplink.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from drivers.line_plc.protocol import OutcomeCode, VerdictAck
from ebr.audit.bundle import verify_database
from ebr.audit.verifier import VerificationReport
from ebr.journal import (
    EventKind,
    Journal,
    JournalEntry,
    JournalEvent,
    JournalWriter,
    verify_journal,
)
from ebr.line_codes import batch_code_states, keys_in
from gateway.line.ledger import CodeLedger
from gateway.line.outbox_backlog import UplinkBacklog, outbox_backlog
from gateway.line.plc import LinePlc
from serialization.rules import PackagingLevel
from serialization.states import CodeState

UNCONFIRMED = (CodeState.ALLOCATED, CodeState.ENCODED)
RECOVERY_TOPIC = "restart_recovery"

log = logging.getLogger("tracegate.line.recovery")


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


SETTLED_ACCEPTS = 300
"""How many of the batch's last accepted units a restart asks the PLC about: more than can be
between the trigger and the gate, or waiting for the PLC's answer, when a gateway stops."""
JOURNAL_TAIL_PER_UNIT = 10
"""Journal entries read per unit to settle: a unit takes two or three, the rest is margin for
packing events, notes and alarms between them."""


def _journal_tail(engine: Engine, batch_id: int, entries: int) -> list[JournalEntry]:
    journal = Journal(engine)
    after = max(0, journal.last_seq(batch_id) - entries)
    return list(journal.entries(batch_id, after_seq=after))


async def settle_last_accepts(
    engine: Engine,
    journal: JournalWriter,
    plc: LinePlc,
    *,
    batch_id: int,
    last: int = SETTLED_ACCEPTS,
) -> list[str]:
    """Close the one window a crash leaves: an accept durable in the journal that never
    reached the PLC. For the batch's last `last` accepted units the PLC says what its gate did;
    a unit it rejected loses its code (Commissioned → Destroyed); one still on its way gets its
    recorded ACCEPT again, or is rejected if that comes too late. A PLC link that drops on the
    way is waited for (`LinePlc.retry_while_down`). Returns the keys revoked."""
    if not plc.knows_outcomes:
        return []
    entries = await asyncio.to_thread(_journal_tail, engine, batch_id, JOURNAL_TAIL_PER_UNIT * last)
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
        outcome = await plc.retry_while_down(functools.partial(plc.unit_outcome, ref))
        if outcome is OutcomeCode.PENDING:
            ack = await plc.retry_while_down(functools.partial(plc.set_verdict, ref, True))
            if ack is VerdictAck.APPLIED:
                continue
        elif outcome is OutcomeCode.PASSED:
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


AUDIT_FINDINGS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class RestartRecovery:
    """What a restarted gateway did before production resumed, as its journal note says."""

    voided: int
    revoked: int
    journal_events: int
    journal_verified: bool
    problem: str | None
    """Why the batch's journal does not verify."""
    audit_entries: int
    audit_verified: bool
    audit_problem: str | None
    """Why the site's audit trail does not verify."""
    outbox: tuple[UplinkBacklog, ...]

    @property
    def verified(self) -> bool:
        return self.journal_verified and self.audit_verified

    def describe(self) -> str:
        chain = (
            f"journal chain of {self.journal_events} entries verified"
            if self.journal_verified
            else f"journal does not verify: {self.problem}"
        )
        audit = (
            f"audit trail of {self.audit_entries} entries verified"
            if self.audit_verified
            else f"audit trail does not verify: {self.audit_problem}"
        )
        outbox = "; ".join(b.describe() for b in self.outbox) or "empty"
        return (
            f"{self.voided} unconfirmed code(s) voided, {self.revoked} accept(s) the PLC never "
            f"had revoked, {chain}, {audit}, outbox: {outbox}"
        )


def audit_problem(report: VerificationReport) -> str | None:
    """The first findings of an audit trail that does not verify, as `tracegate doctor` shows
    them; None when it verifies."""
    if report.ok:
        return None
    problems = [f"{f.kind}: {f.message}" for f in report.findings[:AUDIT_FINDINGS_SHOWN]]
    problems += [f"entries #{a}..#{b} missing" for a, b in report.missing_ranges]
    first = report.first_broken
    return ("" if first is None else f"first broken entry #{first}; ") + "; ".join(problems)


async def record_restart(
    engine: Engine,
    journal: JournalWriter,
    *,
    batch_id: int,
    voided: Sequence[str],
    revoked: Sequence[str],
) -> RestartRecovery:
    """Verify the batch's journal after the settling above, the site's whole audit trail, and
    read what the outbox still holds per uplink; record what the restart did and found: a
    journal note (topic `restart_recovery`, in the batch's chain) and a log line, at ERROR when
    a chain does not verify. Production is not stopped here: the caller decides.

    The audit trail is verified as `tracegate audit verify` does it, in a worker thread. With
    10,000 entries and 100 signed checkpoints it took 0.19 s on SQLite and 0.24 s on PostgreSQL
    (median of 5, shared 2-core machine under load); it grows with the trail, which is read
    into memory whole."""
    verification = await asyncio.to_thread(verify_journal, engine, batch_id)
    audit = await asyncio.to_thread(verify_database, engine)
    backlog = await asyncio.to_thread(outbox_backlog, engine)
    recovery = RestartRecovery(
        voided=len(voided),
        revoked=len(revoked),
        journal_events=verification.events,
        journal_verified=verification.ok and verification.states_match,
        problem=verification.problem,
        audit_entries=audit.entries,
        audit_verified=audit.ok,
        audit_problem=audit_problem(audit),
        outbox=tuple(backlog),
    )
    await journal.append(
        JournalEvent(
            batch_id,
            EventKind.NOTE,
            data={
                "topic": RECOVERY_TOPIC,
                "voided": recovery.voided,
                "revoked": recovery.revoked,
                "revoked_keys": list(revoked),
                "journal_events": recovery.journal_events,
                "journal_verified": recovery.journal_verified,
                "problem": recovery.problem,
                "audit_entries": recovery.audit_entries,
                "audit_verified": recovery.audit_verified,
                "audit_problem": recovery.audit_problem,
                "outbox": {
                    b.destination: {"pending": b.pending, "quarantined": b.quarantined}
                    for b in recovery.outbox
                },
            },
        )
    )
    level = logging.WARNING if recovery.verified else logging.ERROR
    log.log(level, "batch %d resumed after a restart: %s", batch_id, recovery.describe())
    return recovery
