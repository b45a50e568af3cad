from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from ebr.journal import EventKind
from gateway.doctor import Status, exit_code, run_doctor
from tests.gateway.doctor.doctor_site import (
    CALM,
    by_item,
    calm,
    run_a_batch,
    statuses,
    tamper_journal_row,
    write_site,
)


def test_a_healthy_site_is_ok_on_every_item(engine: Engine, tmp_path: Path) -> None:
    run_a_batch(engine)
    verdicts = run_doctor(write_site(tmp_path, engine), CALM)
    assert set(statuses(verdicts).values()) == {Status.OK}, [v.what for v in verdicts]
    assert "2 batch(es)" not in by_item(verdicts)["journal chains"].what
    assert exit_code(verdicts) == 0


def test_a_tampered_journal_row_is_named_by_batch_and_seq(engine: Engine, tmp_path: Path) -> None:
    line = run_a_batch(engine)
    tamper_journal_row(engine, line.batch, 2)
    verdicts = run_doctor(write_site(tmp_path, engine), CALM)
    journal = by_item(verdicts)["journal chains"]
    assert journal.status is Status.FAIL
    assert f"batch {line.batch}: seq 2 was altered" in journal.what
    assert journal.where == "table journal_events"
    assert journal.fix
    assert exit_code(verdicts) == 2


def test_only_the_last_batches_are_verified_when_asked(engine: Engine, tmp_path: Path) -> None:
    line = run_a_batch(engine)
    line.ok(line.event(EventKind.UNIT_ISSUED, line.other_units[0], batch=line.other_batch))
    assert line.other_batch > line.batch
    tamper_journal_row(engine, line.batch, 2)
    site = write_site(tmp_path, engine)
    assert by_item(run_doctor(site, calm(last_batches=1)))["journal chains"].status is Status.OK
    assert by_item(run_doctor(site, CALM))["journal chains"].status is Status.FAIL


def test_an_unreadable_site_file_fails_and_the_rest_is_skipped(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("site:\n  id: x\n  colour: blue\n", encoding="utf-8")
    verdicts = run_doctor(site, CALM)
    assert statuses(verdicts)["configuration"] is Status.FAIL
    assert "error(s)" in verdicts[0].what
    assert "check-config" in (verdicts[0].fix or "")
    assert {v.status for v in verdicts[1:]} == {Status.SKIP}
    assert exit_code(verdicts) == 2


def test_a_missing_sqlite_database_fails_and_is_not_created(tmp_path: Path) -> None:
    database = tmp_path / "nowhere.db"
    verdicts = run_doctor(write_site(tmp_path, f"sqlite:///{database}"), CALM)
    found = by_item(verdicts)["database"]
    assert found.status is Status.FAIL
    assert "does not exist" in found.what
    assert "tracegate db upgrade" in (found.fix or "")
    assert not database.exists()
    assert statuses(verdicts)["journal chains"] is Status.SKIP
