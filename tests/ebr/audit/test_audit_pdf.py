"""The audit trail exported as a printable PDF (R-AUD-3): the selected entries, Chinese text
included, are in the document's text as a reader extracts it; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from ebr.audit.pdf_export import export_pdf
from ebr.audit.trail import AuditEvent, AuditTrail
from gateway.cli import main
from tests.ebr.audit.audit_fixtures import Clock, fill, make_trail

REASON = "批号录入错误，按偏差单 DEV-2026-017 更正"


def pdf_text(path: Path) -> str:
    """All pages' text without white space: table cells wrap lines anywhere."""
    return squeeze("".join(page.extract_text() for page in PdfReader(path).pages))


def squeeze(text: str) -> str:
    return "".join(text.split())


def seed(trail: AuditTrail, clock: Clock) -> None:
    fill(trail, 6)
    clock.advance(timedelta(hours=1))
    trail.append(
        [
            AuditEvent(
                "batch_modified",
                "batch",
                "3",
                action="modify",
                old={"lot": "L3"},
                new={"lot": "L3A"},
                reason=REASON,
                user_id=9,
                username="张伟",
            )
        ]
    )


def test_pdf_holds_the_selected_entries_with_chinese_text(engine: Engine, tmp_path: Path) -> None:
    clock = Clock()
    trail = make_trail(engine, clock=clock)
    seed(trail, clock)
    path = tmp_path / "trail.pdf"

    assert export_pdf(trail, path) == 8  # with the site key's registration
    text = pdf_text(path)
    assert squeeze(REASON) in text
    assert "张伟" in text
    assert "batch_modified" in text
    assert "selection:allentries" in text
    for record in trail.entries():
        assert record.hash[:16] in text

    only = tmp_path / "object.pdf"
    assert export_pdf(trail, only, object_type="batch", object_id="3") == 2
    text = pdf_text(only)
    assert "object_type=batch,object_id=3" in text
    assert squeeze(REASON) in text
    assert "batch:0" not in text

    later = tmp_path / "since.pdf"
    assert export_pdf(trail, later, since=clock.now - timedelta(minutes=1), username="张伟") == 1
    assert "batch_created" not in pdf_text(later)


def test_long_trails_run_over_pages_with_every_entry(engine: Engine, tmp_path: Path) -> None:
    trail = make_trail(engine, every=1000)
    fill(trail, 150, batch=50)
    path = tmp_path / "long.pdf"
    assert export_pdf(trail, path) == 151
    reader = PdfReader(path)
    assert len(reader.pages) > 1
    text = pdf_text(path)
    assert all(record.hash[:16] in text for record in trail.entries())
    assert all("Old->new" in squeeze(page.extract_text()) for page in reader.pages)


def test_cli_show_writes_a_pdf(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Clock()
    trail = make_trail(engine, clock=clock)
    seed(trail, clock)
    path = tmp_path / "cli.pdf"
    url = engine.url.render_as_string(hide_password=False)
    args = ["audit", "show", "--db", url, "--event", "batch_modified", "--pdf", str(path)]
    assert main(args) == 0
    assert "wrote 1 entries" in capsys.readouterr().out
    text = pdf_text(path)
    assert squeeze(REASON) in text
    assert "batch_created" not in text
    with pytest.raises(SystemExit):
        main([*args, "--csv", str(tmp_path / "x.csv")])
    assert "not allowed with argument" in capsys.readouterr().err
