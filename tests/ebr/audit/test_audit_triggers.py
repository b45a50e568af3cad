"""The protective triggers on SQLite and PostgreSQL: a freshly migrated database has exactly the
triggers `expected_triggers` names, so the list and the migrations agree, those of every table
of the executed record, recipes, orders and decoction pieces included; each one dropped or
disabled is named by `missing_triggers` and is a finding of the verifier."""

from __future__ import annotations

from sqlalchemy import Engine

from ebr.audit.bundle import verify_database
from ebr.audit.triggers import expected_triggers, installed_triggers, missing_triggers
from tests.ebr.audit.trigger_fixtures import REMOVED, remove_trigger
from tests.ebr.backup_ebr_site import EBR_TABLES


def test_a_migrated_database_has_exactly_the_expected_triggers(engine: Engine) -> None:
    expected = expected_triggers(engine.dialect.name)
    with engine.connect() as conn:
        assert installed_triggers(conn) == set(expected)
        assert missing_triggers(conn) == []
    assert len(expected) == len(set(expected))
    unprotected = [t for t in EBR_TABLES if not any(n.startswith(f"{t}_") for n in expected)]
    assert unprotected == []


def test_each_missing_ebr_trigger_is_named_and_is_a_finding(engine: Engine) -> None:
    removals = REMOVED[engine.dialect.name]
    for table, name in removals:
        with engine.connect() as conn, conn.begin() as transaction:
            remove_trigger(conn, table, name)
            assert missing_triggers(conn) == [name]
            transaction.rollback()
    table, name = removals[1]
    with engine.begin() as conn:
        remove_trigger(conn, table, name)

    report = verify_database(engine)

    assert not report.ok
    assert [(f.kind, name in f.message) for f in report.findings] == [("triggers", True)]
