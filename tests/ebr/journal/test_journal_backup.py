"""The journal in the incremental backups: a restore equals the live database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from ebr.audit.bundle import verify_database
from ebr.backup import MANIFEST_SUFFIX, Backups
from ebr.backup_incremental import table_digests
from ebr.journal import EventKind, Journal, verify_journal
from tests.ebr.audit.audit_fixtures import Clock, make_trail
from tests.ebr.journal.journal_fixtures import make_line

K = EventKind


def test_incremental_backup_restores_journal_and_aggregation(
    engine: Engine, tmp_path: Path
) -> None:
    line = make_line(engine)
    trail = make_trail(engine, every=4, clock=Clock())
    line.journal = Journal(engine, audit=trail)
    backups = Backups(trail, tmp_path)
    case = line.cases[0]
    line.accept(*line.units[:3])
    line.ok(line.event(K.AGGREGATED, case, children=line.units[:3], level="case"))
    backups.full()
    line.accept(line.units[3])
    line.ok(line.event(K.CHILD_REMOVED, case, child=line.units[0]))
    line.ok(line.event(K.CHILD_ADDED, case, child=line.units[3]))
    with engine.connect() as conn:
        live = table_digests(conn)
    incremental = backups.incremental()
    with backups.restored(tmp_path / (incremental.file + MANIFEST_SUFFIX)) as scratch:
        assert verify_database(scratch).ok
        assert verify_journal(scratch, line.batch).states_match
        with scratch.connect() as conn:
            assert table_digests(conn) == live
