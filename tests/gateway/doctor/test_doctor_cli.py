from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gateway.cli import main
from tests.gateway.doctor.doctor_site import run_a_batch, tamper_journal_row, write_site


def test_json_names_each_item_and_the_exit_code_says_failure(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = run_a_batch(engine)
    tamper_journal_row(engine, line.batch, 3)
    site = write_site(tmp_path, engine)
    code = main(
        [
            "doctor",
            "--config",
            str(site),
            "--json",
            "--disk-warn-percent",
            "0",
            "--disk-fail-percent",
            "0",
            "--disk-fail-mb",
            "0",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == report["exit_code"] == 2
    items = {v["item"]: v for v in report["verdicts"]}
    assert list(items) == [
        "configuration",
        "database",
        "journal chains",
        "audit chain",
        "disk space",
        "clock",
        "certificate",
        "devices",
        "outbox",
    ]
    assert items["journal chains"]["status"] == "fail"
    assert "seq 3 was altered" in items["journal chains"]["what"]
    assert items["clock"]["status"] in ("ok", "warn")


def test_text_output_and_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("site: [\n", encoding="utf-8")
    assert main(["doctor", "--config", str(site)]) == 2
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("FAIL  configuration")
    assert "fix: run `tracegate check-config" in out
    assert out.rstrip().endswith("FAILURES (exit 2)")
    assert main(["doctor", "--config", str(site), "--disk-fail-percent", "20"]) == 1
    assert "not 0 <= fail <= warn <= 100" in capsys.readouterr().err
