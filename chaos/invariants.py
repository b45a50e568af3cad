"""The invariants checked after every trial, against the store, the journal, the audit trail,
the simulator's truth (what was printed, what passed the reject gate) and the receivers.

A code left Allocated or Encoded by a killed gateway is not yet a loss: the next start voids
it (docs/architecture.md, crash recovery), and the campaign's closing run checks none is left.
Nor is a Commissioned code on a unit the gate rejected for want of a verdict, when the gateway
was killed after the unit's accept was durable and before the PLC had it: the next start asks
the PLC and revokes it (`settle_last_accepts`). Once a restart has settled, or at the end, both
are violations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from chaos.receivers import Arrivals
from chaos.report import InvariantResult
from ebr.audit.bundle import verify_database
from ebr.journal import EventKind, Journal, JournalEntry, verify_journal
from ebr.line_codes import batch_code_states
from ebr.models import Code
from ebr.outbox.models import OutboxMessageRow, OutboxStreamRow
from gateway.line.recovery import RECOVERY_TOPIC, SETTLED_ACCEPTS
from gateway.simulation import UnitRecord
from serialization.reconciliation import LineLedger, reconcile
from serialization.rules import PackagingLevel
from serialization.states import CodeState
from simulators.line_plc.line import GateOutcome

SHOWN = 10
"""How many offending codes or units a failed invariant names."""
AWAITING_RECOVERY = frozenset({CodeState.ALLOCATED, CodeState.ENCODED})


@dataclass(frozen=True, slots=True)
class LineTruth:
    engine: Engine
    batch_id: int
    line_id: str
    ledger: Mapping[str, UnitRecord]
    receivers: Mapping[str, Arrivals]
    """Destination id → what its receiver got; empty for a site without uplinks."""
    settled: bool = False
    """The batch is complete: nothing may be left awaiting recovery."""


def check_all(truth: LineTruth) -> list[InvariantResult]:
    journal = list(Journal(truth.engine).entries(truth.batch_id))
    states = batch_code_states(truth.engine, truth.batch_id, line_id=truth.line_id)
    with truth.engine.connect() as conn:
        data_key = {
            str(data): key
            for key, data in conn.execute(select(Code.key, Code.data))
            if data is not None
        }
    results = [
        no_code_issued_twice(truth, journal),
        printed_units_accounted(truth, states, data_key, accepts_awaiting_restart(journal)),
        accepted_units_recorded(truth, journal, states, data_key),
        journal_chain(truth),
        audit_chain(truth),
        reconciliation(journal, states, _label_codes(truth), settled=truth.settled),
    ]
    if truth.receivers:
        results.append(delivered_exactly_once(truth))
    return results


def _label_codes(truth: LineTruth) -> frozenset[str]:
    """The case and pallet labels' codes: issued to the label printers, not to units."""
    keys: set[str] = set()
    for level in (PackagingLevel.CASE, PackagingLevel.PALLET):
        keys |= set(
            batch_code_states(truth.engine, truth.batch_id, line_id=truth.line_id, level=level)
        )
    return frozenset(keys)


def _issued(journal: Sequence[JournalEntry]) -> list[str]:
    return [
        e.event.code_key
        for e in journal
        if e.event.kind is EventKind.UNIT_ISSUED and e.event.code_key is not None
    ]


def no_code_issued_twice(truth: LineTruth, journal: Sequence[JournalEntry]) -> InvariantResult:
    issued = _issued(journal)
    payloads = [u.sent_payload for u in truth.ledger.values() if u.sent_payload is not None]
    twice_journal = (
        sorted({k for k in issued if issued.count(k) > 1})
        if len(issued) != len(set(issued))
        else []
    )
    twice_sent = (
        sorted({p for p in payloads if payloads.count(p) > 1})
        if len(payloads) != len(set(payloads))
        else []
    )
    return InvariantResult(
        "no_code_issued_twice",
        not twice_journal and not twice_sent,
        {
            "issued": len(issued),
            "sent_to_printer": len(payloads),
            "issued_twice": twice_journal[:SHOWN],
            "sent_for_two_units": twice_sent[:SHOWN],
        },
    )


def accepted_codes(entries: Sequence[JournalEntry]) -> dict[str, str]:
    """Unit reference → code key of the `unit.accepted` entries among `entries`."""
    return {
        e.event.unit_ref: e.event.code_key
        for e in entries
        if e.event.kind is EventKind.UNIT_ACCEPTED and e.event.unit_ref and e.event.code_key
    }


def is_restart_note(entry: JournalEntry) -> bool:
    """The note a restarted gateway writes once it has settled (`record_restart`)."""
    event = entry.event
    return event.kind is EventKind.NOTE and event.data.get("topic") == RECOVERY_TOPIC


def accepts_awaiting_restart(journal: Sequence[JournalEntry]) -> frozenset[str]:
    """The code keys a restart would still settle: accepted after the journal's last restart
    note (the whole batch before the first restart), not rejected since, and among the last
    `SETTLED_ACCEPTS` accepts."""
    accepted: dict[str, None] = {}
    for entry in journal:
        event = entry.event
        if is_restart_note(entry):
            accepted.clear()
        elif event.kind is EventKind.UNIT_ACCEPTED and event.code_key:
            accepted.pop(event.code_key, None)
            accepted[event.code_key] = None
        elif event.kind is EventKind.UNIT_REJECTED and event.code_key:
            accepted.pop(event.code_key, None)
    return frozenset(list(accepted)[-SETTLED_ACCEPTS:])


def printed_units_accounted(
    truth: LineTruth,
    states: Mapping[str, CodeState],
    data_key: Mapping[str, str],
    awaiting_restart: frozenset[str] = frozenset(),
) -> InvariantResult:
    """Every code sent to the printer is the batch's, and its state agrees with the gate: a
    unit that passed carries a Commissioned code, a unit in the reject bin never does — but
    for one whose ACCEPT never reached the gate while its accept is still `awaiting_restart`
    (a gateway killed in between): that is left to the next start, like an Encoded code."""
    unknown: list[str] = []
    passed_not_commissioned: list[str] = []
    rejected_but_commissioned: list[str] = []
    pending: list[str] = []
    for ref, unit in truth.ledger.items():
        if unit.sent_payload is None:
            continue
        key = data_key.get(unit.sent_payload)
        state = None if key is None else states.get(key)
        if state is None:
            unknown.append(ref)
            continue
        if state in AWAITING_RECOVERY and unit.gate is not GateOutcome.PASSED:
            pending.append(ref)
        if unit.gate is GateOutcome.PASSED and state is not CodeState.COMMISSIONED:
            passed_not_commissioned.append(f"{ref}:{state.name}")
        if (
            unit.gate is not None
            and unit.gate is not GateOutcome.PASSED
            and state is CodeState.COMMISSIONED
        ):
            if unit.verdict is None and key in awaiting_restart:
                pending.append(ref)
            else:
                rejected_but_commissioned.append(ref)
    left = pending if truth.settled else []
    return InvariantResult(
        "printed_units_accounted",
        not (unknown or passed_not_commissioned or rejected_but_commissioned or left),
        {
            "printed": sum(u.sent_payload is not None for u in truth.ledger.values()),
            "awaiting_recovery": len(pending),
            "awaiting_recovery_units": pending[:SHOWN],
            "not_the_batch_codes": unknown[:SHOWN],
            "passed_gate_not_commissioned": passed_not_commissioned[:SHOWN],
            "rejected_but_commissioned": rejected_but_commissioned[:SHOWN],
        },
    )


def accepted_units_recorded(
    truth: LineTruth,
    journal: Sequence[JournalEntry],
    states: Mapping[str, CodeState],
    data_key: Mapping[str, str],
) -> InvariantResult:
    """Every unit that passed the gate has a `unit.accepted` entry for exactly the code printed
    on it, and that code is Commissioned (the chain's verification is its own invariant)."""
    accepted = accepted_codes(journal)
    missing: list[str] = []
    wrong_code: list[str] = []
    passed = [ref for ref, unit in truth.ledger.items() if unit.gate is GateOutcome.PASSED]
    for ref in passed:
        key = accepted.get(ref)
        if key is None:
            missing.append(ref)
            continue
        printed = truth.ledger[ref].printed_payload
        if (
            printed is None
            or data_key.get(printed) != key
            or states.get(key) is not (CodeState.COMMISSIONED)
        ):
            wrong_code.append(ref)
    return InvariantResult(
        "accepted_units_have_records",
        not missing and not wrong_code,
        {
            "passed_gate": len(passed),
            "accepted_records": len(accepted),
            "passed_without_record": missing[:SHOWN],
            "record_for_another_code": wrong_code[:SHOWN],
        },
    )


def journal_chain(truth: LineTruth) -> InvariantResult:
    result = verify_journal(truth.engine, truth.batch_id)
    return InvariantResult(
        "journal_chain_verifies",
        result.ok and result.states_match,
        {
            "events": result.events,
            "chain_ok": result.ok,
            "states_match": result.states_match,
            "first_bad_seq": result.first_bad_seq,
            "problem": result.problem,
        },
    )


def audit_chain(truth: LineTruth) -> InvariantResult:
    report = verify_database(truth.engine)
    return InvariantResult(
        "audit_chain_verifies",
        report.ok,
        {"first_broken": report.first_broken, "findings": report.lines()[:SHOWN]},
    )


def reconciliation(
    journal: Sequence[JournalEntry],
    states: Mapping[str, CodeState],
    label_codes: frozenset[str],
    *,
    settled: bool,
) -> InvariantResult:
    """Both live equations over the store: allocated = issued + buffered (never printed,
    voided included); issued = accepted + rejected + sampled + destroyed + in flight."""

    def having(*wanted: CodeState) -> frozenset[str]:
        return frozenset(key for key, state in states.items() if state in wanted)

    ledger = LineLedger(
        allocated=frozenset(states),
        buffered=having(CodeState.ALLOCATED, CodeState.SN_INVALID),
        issued=frozenset(_issued(journal)) - label_codes,
        accepted=having(CodeState.COMMISSIONED),
        rejected=having(CodeState.LABEL_SCRAPPED),
        sampled=having(CodeState.SAMPLED),
        destroyed=having(CodeState.DESTROYED),
        in_flight=having(CodeState.ENCODED),
    )
    result = reconcile(ledger)
    left = having(*AWAITING_RECOVERY) if settled else frozenset()
    return InvariantResult(
        "reconciliation_balances",
        result.balanced and not left,
        {
            "counts": dict(result.counts),
            "equations": [str(equation) for equation in result.equations],
            "drift": "" if result.balanced else result.describe(SHOWN),
            "left_unconfirmed": sorted(left)[:SHOWN],
        },
    )


def delivered_exactly_once(truth: LineTruth) -> InvariantResult:
    """Per destination and sender, the receiver's distinct events plus the outbox's waiting
    messages are sequences 1..last with no gap; an eventID never arrives under two sequences;
    a redelivery (an acknowledgement lost in a kill) is counted, and deduplicated by eventID as
    docs/uplinks.md promises. With `settled`, the outbox must be empty."""
    with truth.engine.connect() as conn:
        heads = {
            (row.destination, row.sender): int(row.last_seq)
            for row in conn.execute(select(OutboxStreamRow))
        }
        waiting: dict[tuple[str, str], set[int]] = {}
        for destination, sender, seq in conn.execute(
            select(OutboxMessageRow.destination, OutboxMessageRow.sender, OutboxMessageRow.seq)
        ):
            waiting.setdefault((destination, sender), set()).add(int(seq))
    details: dict[str, object] = {}
    ok = True
    for (destination, sender), last in sorted(heads.items()):
        arrivals = truth.receivers.get(destination)
        if arrivals is None:
            continue
        got = {seq for who, seq in arrivals.sequence_of.values() if who == sender}
        queued = waiting.get((destination, sender), set())
        expected = set(range(1, last + 1))
        lost = sorted(expected - got - queued)
        foreign = sorted(got - expected)
        settled_left = len(queued) if truth.settled else 0
        stream_ok = not lost and not foreign and not arrivals.conflicts and not settled_left
        ok = ok and stream_ok
        details[destination] = {
            "written": last,
            "received": len(got),
            "waiting_in_outbox": len(queued),
            "redeliveries_deduplicated": arrivals.redeliveries,
            "lost": lost[:SHOWN],
            "unknown_sequences": foreign[:SHOWN],
            "event_under_two_sequences": arrivals.conflicts[:SHOWN],
        }
    return InvariantResult("upward_messages_exactly_once", ok, details)
