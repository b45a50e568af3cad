"""A database of the previous release (schema 0007) with production data upgrades to head with
every row intact, its journal and audit chains still verifying, and keeps working after."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, MetaData, inspect, select

from ebr.audit.bundle import verify_database
from ebr.audit.checkpoints import SiteKey
from ebr.audit.trail import AuditTrail
from ebr.db import make_engine
from ebr.journal import EventKind, Journal, JournalEvent, verify_journal
from ebr.schema import current_revision, head_revision, upgrade
from tests.ebr.trace_fixtures import PASSWORD, site_users, traced_batch

PREVIOUS = "0007"


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order (alembic's own version row left out)."""
    metadata = MetaData()
    metadata.reflect(engine)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in metadata.tables.items():
            if name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows[name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
    return rows


def test_a_previous_release_database_upgrades_with_its_data_and_chains_intact(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, PREVIOUS)
        assert current_revision(engine) == PREVIOUS
        trail = AuditTrail(
            engine, site_key=SiteKey.from_private(Ed25519PrivateKey.generate()), checkpoint_every=5
        )
        users = site_users(trail)
        traced = traced_batch(engine)
        users.login("qa1", PASSWORD)
        trail.checkpoint()
        before = snapshot(engine)
        assert before["journal_events"]
        assert before["codes"]
        assert before["audit_entries"]
        assert before["audit_checkpoints"]

        upgrade(engine)

        assert current_revision(engine) == head_revision(engine)
        after = snapshot(engine)
        assert {name: after[name] for name in before} == before
        assert set(after) > set(before)
        assert set(inspect(engine).get_table_names()) >= set(before)
        for batch in (traced.batch, traced.other_batch):
            verification = verify_journal(engine, batch)
            assert verification.ok, verification
            assert verification.states_match, verification
        audit = verify_database(engine)
        assert audit.ok, audit.findings

        Journal(engine).append_many(
            [JournalEvent(traced.other_batch, EventKind.NOTE, data={"topic": "after upgrade"})]
        )
        users.login("sup1", PASSWORD)
        trail.checkpoint()
        assert verify_journal(engine, traced.other_batch).ok
        assert verify_database(engine).ok
    finally:
        engine.dispose()
