"""Tamper tests: changes planted behind the append-only triggers, as a database superuser
could, are each found by the verifier with the first broken entry; an untouched trail verifies.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, Engine, text

from ebr.audit.bundle import build_bundle, verify_database
from ebr.audit.chain import entry_hash
from ebr.audit.trail import AuditTrail
from ebr.audit.verifier import VerificationReport, verify_bundle
from tests.ebr.audit.audit_fixtures import behind_the_triggers, fill, make_trail

ENTRIES = 21
"""Entry 1 registers the site key, then 20 events; checkpoints sign entries 5, 10, 15, 20."""


@pytest.fixture
def trail(engine: Engine) -> AuditTrail:
    trail = make_trail(engine, every=5)
    fill(trail, ENTRIES - 1)
    return trail


def _entry(conn: Connection, seq: int) -> dict[str, object]:
    return dict(
        conn.execute(text("SELECT * FROM audit_entries WHERE seq = :s"), {"s": seq})
        .mappings()
        .one()
    )


def _renumber(conn: Connection, start: int, shift: int) -> None:
    """Move entries from `start` on by `shift` places (through negative numbers, so the primary
    key never collides mid-statement)."""
    conn.execute(text("UPDATE audit_entries SET seq = -seq WHERE seq >= :s"), {"s": start})
    conn.execute(text("UPDATE audit_entries SET seq = -seq + :d WHERE seq < 0"), {"d": shift})


def _edit_value(conn: Connection) -> None:
    conn.execute(text('UPDATE audit_entries SET new_value = \'{"lot":"FORGED"}\' WHERE seq = 8'))


def _edit_time(conn: Connection) -> None:
    conn.execute(
        text("UPDATE audit_entries SET at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 3")
    )


def _delete_middle(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_entries WHERE seq IN (12, 13)"))


def _delete_tail(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_entries WHERE seq >= 18"))


def _swap(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_entries SET seq = -1 WHERE seq = 6"))
    conn.execute(text("UPDATE audit_entries SET seq = 6 WHERE seq = 7"))
    conn.execute(text("UPDATE audit_entries SET seq = 7 WHERE seq = -1"))


def _insert_forged(conn: Connection) -> None:
    """A well-formed entry slipped in at #9: it links to #8 and hashes correctly."""
    _renumber(conn, 9, 1)
    forged = _entry(conn, 8)
    forged.update(seq=9, prev_hash=forged["hash"], new_value='{"lot":"PLANTED"}')
    forged["hash"] = entry_hash(forged)
    columns = ", ".join(forged)
    conn.execute(
        text(
            f"INSERT INTO audit_entries ({columns}) VALUES ({', '.join(':' + c for c in forged)})"
        ),
        forged,
    )


def _append_garbage(conn: Connection) -> None:
    row = _entry(conn, ENTRIES)
    row.update(seq=ENTRIES + 1, hash="f" * 64, prev_hash="e" * 64)
    columns = ", ".join(row)
    conn.execute(
        text(f"INSERT INTO audit_entries ({columns}) VALUES ({', '.join(':' + c for c in row)})"),
        row,
    )


def _rewrite_chain(conn: Connection) -> None:
    """The strongest attack without the site key: edit #12 and recompute every hash after it."""
    conn.execute(text("UPDATE audit_entries SET reason = 'rewritten' WHERE seq = 12"))
    prev = str(_entry(conn, 11)["hash"])
    for seq in range(12, ENTRIES + 1):
        row = _entry(conn, seq)
        row["prev_hash"] = prev
        prev = entry_hash(row)
        conn.execute(
            text("UPDATE audit_entries SET prev_hash = :p, hash = :h WHERE seq = :s"),
            {"p": row["prev_hash"], "h": prev, "s": seq},
        )


def _forge_checkpoint(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_checkpoints SET entry_seq = 9 WHERE seq = 2"))


def _delete_checkpoint(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_checkpoints WHERE seq = 2"))


CASES: dict[str, tuple[Callable[[Connection], None], int | None, str]] = {
    "edited value": (_edit_value, 8, "content"),
    "edited timestamp": (_edit_time, 3, "content"),
    "deleted entries": (_delete_middle, 12, "link"),
    "truncated tail": (_delete_tail, 18, "truncated"),
    "reordered entries": (_swap, 6, "content"),
    "inserted entry": (_insert_forged, 10, "content"),
    "appended garbage": (_append_garbage, ENTRIES + 1, "link"),
    "rewritten chain": (_rewrite_chain, 11, "rewritten"),
    "forged checkpoint": (_forge_checkpoint, None, "checkpoint"),
    "deleted checkpoint": (_delete_checkpoint, None, "checkpoint"),
}


def test_an_untouched_trail_verifies(trail: AuditTrail) -> None:
    report = verify_database(trail.engine)
    assert report.ok, report.lines()
    assert (report.entries, report.checkpoints, report.first_broken) == (ENTRIES, 4, None)
    assert report.unsigned_tail == (21, 21)


@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_found_with_the_first_broken_entry(trail: AuditTrail, case: str) -> None:
    plant, first_broken, kind = CASES[case]
    with behind_the_triggers(trail.engine) as conn:
        plant(conn)
    report = verify_database(trail.engine)
    assert not report.ok
    assert report.first_broken == first_broken, report.lines()
    assert kind in {f.kind for f in report.findings}, report.lines()
    assert not [f for f in report.findings if f.kind == "triggers"], "the triggers are back"
    with trail.engine.connect() as conn:
        offline = verify_bundle(json.loads(json.dumps(build_bundle(conn))))
    assert offline.to_dict() == report.to_dict(), "the offline verifier finds the same"


def test_missing_ranges_are_reported(trail: AuditTrail) -> None:
    with behind_the_triggers(trail.engine) as conn:
        _delete_middle(conn)
        _delete_tail(conn)
    report: VerificationReport = verify_database(trail.engine)
    # #21 was never signed by a checkpoint: the verifier can prove only #18..#20 are missing.
    assert report.missing_ranges == [(12, 13), (18, 20)]
    assert report.first_broken == 12


def test_a_dropped_trigger_is_a_finding(trail: AuditTrail) -> None:
    with trail.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
            )
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
    report = verify_database(trail.engine)
    assert [f.kind for f in report.findings] == ["triggers"]
    assert not report.ok
