"""Which accepts a restart would still settle: the campaign tolerates a unit in the reject bin
with a Commissioned code only while its accept is one of them (a kill between the accept made
durable and the PLC having it), never once a restart has settled."""

from __future__ import annotations

from datetime import UTC, datetime

from chaos.invariants import accepts_awaiting_restart
from ebr.journal import EventKind, JournalEntry, JournalEvent
from gateway.line.recovery import RECOVERY_TOPIC, SETTLED_ACCEPTS


def _journal(*events: JournalEvent) -> list[JournalEntry]:
    at = datetime(2026, 11, 24, tzinfo=UTC)
    return [JournalEntry(event, seq, at, "", "") for seq, event in enumerate(events, start=1)]


def _accepted(ref: int) -> JournalEvent:
    return JournalEvent(1, EventKind.UNIT_ACCEPTED, unit_ref=str(ref), code_key=f"k{ref}")


def _rejected(ref: int) -> JournalEvent:
    return JournalEvent(
        1, EventKind.UNIT_REJECTED, unit_ref=str(ref), code_key=f"k{ref}", data={"reason": "x"}
    )


def _restart() -> JournalEvent:
    return JournalEvent(1, EventKind.NOTE, data={"topic": RECOVERY_TOPIC, "revoked_keys": []})


def test_before_any_restart_every_accept_not_revoked_awaits() -> None:
    journal = _journal(_accepted(1), _accepted(2), _rejected(2), _accepted(3))
    assert accepts_awaiting_restart(journal) == {"k1", "k3"}


def test_a_restart_settles_the_accepts_before_it() -> None:
    journal = _journal(_accepted(1), _restart(), _accepted(2))
    assert accepts_awaiting_restart(journal) == {"k2"}
    assert accepts_awaiting_restart(_journal(_accepted(1), _restart())) == set()


def test_only_the_accepts_a_restart_asks_the_plc_about() -> None:
    journal = _journal(*(_accepted(ref) for ref in range(1, SETTLED_ACCEPTS + 6)))
    awaiting = accepts_awaiting_restart(journal)
    assert len(awaiting) == SETTLED_ACCEPTS
    assert "k5" not in awaiting
    assert {"k6", f"k{SETTLED_ACCEPTS + 5}"} <= awaiting


def test_other_notes_settle_nothing() -> None:
    note = JournalEvent(1, EventKind.NOTE, data={"topic": "operator"})
    assert accepts_awaiting_restart(_journal(_accepted(1), note)) == {"k1"}
