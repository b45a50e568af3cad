"""A restarted gateway records what it settled and what it found: codes voided, accepts revoked,
the batch's journal and the site's whole audit trail verified, and what the upward outbox still
holds per uplink, as a note in the batch's chain and a log line. (A unit issued but without a
durable verdict, and the buffer's unused codes, are what a killed gateway leaves.) A tampered
audit row is reported at ERROR and in the note, and the restart still completes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from ebr.allocation import CodeAllocator
from ebr.journal import EventKind, Journal, JournalEvent, JournalWriter, verify_journal
from ebr.outbox import Outbox, OutgoingEvent
from gateway.line.recovery import (
    RECOVERY_TOPIC,
    RestartRecovery,
    record_restart,
    void_unconfirmed,
)
from serialization.rules import PackagingLevel
from tests.ebr.audit.audit_fixtures import behind_the_triggers
from tests.ebr.fixtures_master import install_master_data, open_batch

SENDER = "site-1/line-1"


def _leave_messages(engine: Engine, batch: int) -> None:
    """What a killed gateway leaves upward: three messages for each uplink, one of the MQTT
    broker's refused (quarantined)."""
    outbox = Outbox(engine)
    events = [OutgoingEvent(batch, seq, datetime.now(UTC), f'{{"n":{seq}}}') for seq in (1, 2, 3)]
    with engine.begin() as conn:
        outbox.write(conn, SENDER, ["epcis-http", "mqtt"], events)
    (refused, *_) = outbox.pending("mqtt", limit=10)
    outbox.quarantine(refused, "schema validation failed")


async def _restart(engine: Engine, batch: int) -> tuple[list[str], list[str], RestartRecovery]:
    allocator = CodeAllocator(engine)
    issued, *buffered = allocator.allocate("line-1", batch, 4)
    writer = JournalWriter(Journal(engine), window_s=0.0)
    await writer.start()
    try:
        await writer.append(
            JournalEvent(batch, EventKind.UNIT_ISSUED, unit_ref="1", code_key=issued.key)
        )
        voided = await void_unconfirmed(
            engine,
            writer,
            batch_id=batch,
            line_id="line-1",
            level=PackagingLevel.UNIT,
            reason="gateway restart: unconfirmed codes voided (no durable verdict)",
        )
        recovery = await record_restart(engine, writer, batch_id=batch, voided=voided, revoked=[])
    finally:
        await writer.close()
    return voided, [issued.key, *(code.key for code in buffered)], recovery


def _logged(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    (logged,) = [r for r in caplog.records if r.name == "tracegate.line.recovery"]
    return logged


async def test_the_restart_is_recorded_in_the_chain_and_logged(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    install_master_data(engine)
    batch = open_batch(engine, "amox")
    _leave_messages(engine, batch)
    with caplog.at_level(logging.WARNING, logger="tracegate.line.recovery"):
        voided, allocated, recovery = await _restart(engine, batch)

    assert sorted(voided) == sorted(allocated)
    assert recovery.voided == 4
    assert recovery.revoked == 0
    assert recovery.journal_verified
    assert recovery.journal_events == 2
    assert recovery.audit_verified
    assert recovery.audit_entries > 0

    last = list(Journal(engine).entries(batch))[-1]
    assert last.event.kind is EventKind.NOTE
    assert last.event.data == {
        "topic": RECOVERY_TOPIC,
        "voided": 4,
        "revoked": 0,
        "revoked_keys": [],
        "journal_events": 2,
        "journal_verified": True,
        "problem": None,
        "audit_entries": recovery.audit_entries,
        "audit_verified": True,
        "audit_problem": None,
        "outbox": {
            "epcis-http": {"pending": 3, "quarantined": 0},
            "mqtt": {"pending": 2, "quarantined": 1},
        },
    }
    assert verify_journal(engine, batch).ok

    logged = _logged(caplog)
    assert logged.levelno == logging.WARNING
    assert logged.getMessage() == (
        f"batch {batch} resumed after a restart: 4 unconfirmed code(s) voided, 0 accept(s) the "
        "PLC never had revoked, journal chain of 2 entries verified, audit trail of "
        f"{recovery.audit_entries} entries verified, outbox: epcis-http 3 pending, "
        "0 quarantined; mqtt 2 pending, 1 quarantined"
    )


async def test_a_tampered_audit_row_is_reported_at_restart(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    install_master_data(engine)
    batch = open_batch(engine, "amox")
    with behind_the_triggers(engine) as conn:
        conn.execute(text("UPDATE audit_entries SET reason = 'covered up' WHERE seq = 2"))
    with caplog.at_level(logging.WARNING, logger="tracegate.line.recovery"):
        _, _, recovery = await _restart(engine, batch)

    assert recovery.journal_verified, "the batch's own journal is intact"
    assert not recovery.audit_verified
    assert not recovery.verified
    assert recovery.audit_problem is not None
    assert recovery.audit_problem.startswith("first broken entry #2; ")
    assert recovery.outbox == ()

    note = list(Journal(engine).entries(batch))[-1].event
    assert note.data["topic"] == RECOVERY_TOPIC, "the restart is recorded all the same"
    assert note.data["audit_verified"] is False
    assert note.data["audit_problem"] == recovery.audit_problem
    assert note.data["outbox"] == {}

    logged = _logged(caplog)
    assert logged.levelno == logging.ERROR
    assert (
        f"audit trail does not verify: {recovery.audit_problem}, outbox: empty"
        in logged.getMessage()
    )
