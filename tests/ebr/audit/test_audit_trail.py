"""The audit trail on both databases: what an entry holds, append-only triggers, checkpoints
every N entries or T minutes, key rotation, views and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from ebr.audit.bundle import verify_database
from ebr.audit.models import AuditCheckpoint, AuditKey
from ebr.audit.trail import AuditError, AuditEvent, AuditTrail
from ebr.db import make_engine
from ebr.schema import upgrade
from tests.ebr.audit.audit_fixtures import Clock, fill, make_trail, new_site_key


def _change(reason: str | None = "operator typo") -> AuditEvent:
    return AuditEvent(
        "batch_modified",
        "batch",
        "42",
        action="modify",
        old={"qty": 1000},
        new={"qty": 1200},
        reason=reason,
        user_id=3,
        username="bob",
    )


def test_an_entry_holds_who_when_what_old_new_and_why(engine: Engine) -> None:
    clock = Clock()
    trail = make_trail(engine, clock=clock)
    (seq,) = trail.append([_change()])
    (entry,) = trail.entries(object_type="batch", object_id="42")
    assert entry.seq == seq
    assert (entry.username, entry.user_id, entry.event) == ("bob", 3, "batch_modified")
    assert entry.at == "2026-11-22T08:00:00.000000+00:00"
    assert (entry.old, entry.new, entry.reason) == ({"qty": 1000}, {"qty": 1200}, "operator typo")


@pytest.mark.parametrize("action", ["modify", "delete"])
def test_modify_and_delete_need_a_reason(engine: Engine, action: str) -> None:
    trail = make_trail(engine)
    for reason in (None, "  "):
        event = AuditEvent("x", "batch", "1", action=action, reason=reason)
        with pytest.raises(AuditError, match="needs a reason"):
            trail.append([event])
    assert trail.head()[0] == 0, "nothing half-written"


def test_values_without_canonical_form_are_refused(engine: Engine) -> None:
    trail = make_trail(engine)
    with pytest.raises(AuditError, match="float has no canonical JSON form"):
        trail.append([AuditEvent("x", "batch", "1", action="create", new={"weight": 1.5})])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET reason = 'x'",
        "DELETE FROM audit_entries",
        "UPDATE audit_checkpoints SET entry_seq = 1",
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_keys",
        "UPDATE audit_keys SET public_key = 'ab'",
    ],
)
def test_the_database_refuses_update_and_delete(engine: Engine, statement: str) -> None:
    trail = make_trail(engine, every=2)
    fill(trail, 4)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert verify_database(engine).ok


def test_truncate_is_refused_on_postgresql(pg_schema_url: str) -> None:
    engine = make_engine(pg_schema_url)
    try:
        upgrade(engine)
        fill(make_trail(engine), 2)
        for table in ("audit_entries", "e_signatures", "users"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {table} CASCADE"))
    finally:
        engine.dispose()


def test_checkpoints_every_n_entries(engine: Engine) -> None:
    trail = make_trail(engine, every=10)
    fill(trail, 34, batch=7)
    with engine.connect() as conn:
        signed = list(conn.execute(select(AuditCheckpoint.entry_seq).order_by("seq")).scalars())
    assert signed == [10, 20, 30]
    assert verify_database(engine).unsigned_tail == (31, 35)


def test_checkpoints_after_t_minutes_even_with_few_entries(engine: Engine) -> None:
    clock = Clock()
    trail = AuditTrail(
        engine,
        site_key=new_site_key(),
        checkpoint_every=1000,
        checkpoint_interval=timedelta(minutes=15),
        clock=clock,
    )
    fill(trail, 3)
    clock.advance(timedelta(minutes=16))
    fill(trail, 1)
    assert trail.checkpoint() is None, "the head is signed already"
    fill(trail, 1)
    clock.advance(timedelta(minutes=16))
    assert trail.checkpoint() == 2, "an idle line's head is signed by the timer"
    report = verify_database(engine)
    assert report.ok
    assert report.unsigned_tail is None


def test_a_rotated_key_keeps_old_checkpoints_verifiable(engine: Engine) -> None:
    trail = make_trail(engine, every=3)
    fill(trail, 7)
    new_key = new_site_key()
    trail.rotate_key(new_key, user_id=1, username="admin")
    fill(trail, 7)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditKey)).scalar_one() == 2
        keys = set(conn.execute(select(AuditCheckpoint.key_id)).scalars())
    assert new_key.key_id in keys
    assert len(keys) == 2
    report = verify_database(engine)
    assert report.ok, report.lines()
    other = verify_database(engine, trusted_keys={new_key.public_key_hex})
    assert not other.ok, "a checkpoint signed by an untrusted key is a finding"


def test_views_by_time_object_event_and_user(engine: Engine) -> None:
    clock = Clock()
    trail = make_trail(engine, clock=clock)
    start = clock.now
    trail.append([AuditEvent("batch_created", "batch", "1", action="create", username="ann")])
    clock.advance(timedelta(hours=1))
    trail.append([_change()])
    clock.advance(timedelta(hours=1))
    trail.append([AuditEvent("login", "user", "3", action="access", user_id=3, username="bob")])
    assert [e.event for e in trail.entries(event="login")] == ["login"]
    assert [e.object_id for e in trail.entries(object_type="batch")] == ["1", "42"]
    assert [e.event for e in trail.entries(user_id=3)] == ["batch_modified", "login"]
    assert [e.event for e in trail.entries(username="ann")] == ["batch_created"]
    window = trail.entries(
        since=start + timedelta(minutes=30), until=start + timedelta(hours=1, minutes=30)
    )
    assert [e.event for e in window] == ["batch_modified"]


def test_csv_export(engine: Engine) -> None:
    trail = make_trail(engine)
    trail.append([_change()])
    out = io.StringIO()
    assert trail.export_csv(out, object_type="batch") == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["reason"] == "operator typo"
    assert rows[0]["old_value"] == '{"qty":1000}'
    assert len(rows[0]["hash"]) == 64


def test_concurrent_appenders_keep_one_chain(engine: Engine) -> None:
    first, second = make_trail(engine, every=4), make_trail(engine, every=4)
    for _ in range(5):
        fill(first, 3)
        fill(second, 2)
    report = verify_database(engine)
    assert report.ok, report.lines()
    assert report.entries == 27, "25 events and two site keys registered"
