"""The kill that falls between an accept made durable and the PLC having it.

ACCEPT goes to the PLC only after the unit's record is durable, so a gateway can die with the
record written and the ACCEPT still on the wire: the unit meets the fail-safe gate without a
verdict and goes to the reject bin with a Commissioned code, until the next start asks the PLC
what became of it (`gateway.line.recovery.settle_last_accepts`) and revokes it. A random kill
hits that window rarely (it did twice in the campaign of 2026-11-24); this trial makes sure of
it by holding the simulated PLC's SetVerdict calls, so none are answered, while the gateway
records an accept, then kills the gateway, restarts it, and checks that the restart revoked
exactly those units.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from chaos.bench import Bench
from chaos.invariants import accepted_codes, accepts_awaiting_restart, check_all, is_restart_note
from chaos.report import InvariantResult
from chaos.trials import GATE_SETTLE_S, TrialOutcome
from ebr.journal import Journal, JournalEntry
from ebr.line_codes import batch_code_states
from serialization.states import CodeState
from simulators.line_plc.line import GateOutcome

R = TypeVar("R")
ACCEPT_TIMEOUT_S = 10.0
RESTART_TIMEOUT_S = 90.0


def _entries(bench: Bench, after_seq: int = 0) -> list[JournalEntry]:
    return list(Journal(bench.site.store.engine).entries(bench.batch_id, after_seq=after_seq))


def _last_seq(bench: Bench) -> int:
    return Journal(bench.site.store.engine).last_seq(bench.batch_id)


async def _until_in_journal(
    bench: Bench, after_seq: int, find: Callable[[list[JournalEntry]], R], timeout_s: float
) -> R | None:
    """Poll the journal after `after_seq` until `find(entries)` finds something, and return
    it (None after `timeout_s`), reading in a worker thread: the simulated devices share this
    event loop, and a read waiting on the database there would stall the PLC the gateway talks
    to."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not (found := find(await asyncio.to_thread(_entries, bench, after_seq))):
        if loop.time() > deadline:
            return None
        await asyncio.sleep(0.02)
    return found


def _restart_note(entries: Sequence[JournalEntry]) -> JournalEntry | None:
    return next((e for e in entries if is_restart_note(e)), None)


async def kill_with_accepts_in_flight(bench: Bench, rng: random.Random) -> TrialOutcome:
    """SIGKILL while the PLC holds the ACCEPTs of units already recorded as accepted; then
    the restart must revoke exactly those units."""
    plc = bench.simulation.plc
    assert plc is not None
    bench.gateway.start()
    await bench.gateway.until_printing(bench.simulation)
    await asyncio.sleep(rng.uniform(0.0, 1.0))
    held_from = await asyncio.to_thread(_last_seq, bench)
    plc.hold_verdicts()
    try:
        recorded = (
            await _until_in_journal(bench, held_from, accepted_codes, ACCEPT_TIMEOUT_S) is not None
        )
        await asyncio.sleep(rng.uniform(0.0, 0.2))
        bench.gateway.kill()
    finally:
        plc.release_verdicts()
    await asyncio.sleep(GATE_SETTLE_S)
    killed_at = await asyncio.to_thread(_last_seq, bench)
    journal = await asyncio.to_thread(_entries, bench)
    awaiting = accepts_awaiting_restart(journal)
    ledger = bench.simulation.ledger()
    in_flight = {
        ref: key
        for ref, key in accepted_codes([e for e in journal if e.seq > held_from]).items()
        if key in awaiting
        and (unit := ledger.get(ref)) is not None
        and unit.gate is not GateOutcome.PASSED
        and unit.verdict is None
    }
    hit = InvariantResult(
        "accepts_in_flight_at_kill",
        recorded and bool(in_flight),
        {"accepted_while_held": recorded, "units": sorted(in_flight, key=int)},
    )
    before_restart = next(
        replace(result, name=f"{result.name}_before_restart")
        for result in await asyncio.to_thread(check_all, bench.truth())
        if result.name == "printed_units_accounted"
    )

    bench.gateway.start()
    note = await _until_in_journal(bench, killed_at, _restart_note, RESTART_TIMEOUT_S)
    restarted = note is not None
    revoked = set(note.event.data.get("revoked_keys", [])) if note is not None else set()
    states = await asyncio.to_thread(
        batch_code_states, bench.site.store.engine, bench.batch_id, line_id=bench.site.line.id
    )
    still_commissioned = sorted(
        ref for ref, key in in_flight.items() if states.get(key) is CodeState.COMMISSIONED
    )
    settled = InvariantResult(
        "restart_revokes_accepts_in_flight",
        restarted and revoked == set(in_flight.values()) and not still_commissioned,
        {
            "restarted": restarted,
            "in_flight": len(in_flight),
            "revoked": len(revoked),
            "revoked_not_in_flight": sorted(revoked - set(in_flight.values())),
            "still_commissioned": still_commissioned,
        }
        | ({} if restarted else {"log_tail": bench.gateway.tail(1500)}),
    )
    await bench.gateway.until_printing(bench.simulation)
    bench.gateway.kill()
    await asyncio.sleep(GATE_SETTLE_S)
    return TrialOutcome({"accepts_in_flight": len(in_flight)}, [hit, before_restart, settled])
