"""`tracegate demo`: the simulated line in its own process runs a batch through the gateway."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gateway.cli import main
from gateway.commands import demo
from gateway.line import testbed

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REPORT_KEYS = {
    "units",
    "accepted",
    "rejected",
    "reconciliation_balanced",
    "chain_verified",
    "late_verdicts",
    "latency_ms",
    "batch_id",
    "database_url",
    "opcua_endpoint",
    "hmi_url",
}


def test_the_demo_runs_a_batch_and_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def on_free_ports(directory: Path, *, free_ports: bool = False) -> Path:
        return testbed.write_demo_site(directory, free_ports=True)

    monkeypatch.setattr(demo, "write_demo_site", on_free_ports)
    report_file = tmp_path / "report.json"
    argv = ["demo", "--dir", str(tmp_path / "demo"), "--count", "1", "--units", "40"]
    argv += ["--rate", "1200", "--defects", "0.05", "--report", str(report_file)]
    argv += ["--hmi", "127.0.0.1:0", "--headless"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "reconciliation balanced, journal chain verified" in out
    assert "audit trail: signed checkpoint" in out
    assert "HMI: open http://127.0.0.1:" in out
    assert "demo.qa" in out, "the demo accounts are printed"
    assert "demo.engineer" in out, "the demo accounts are printed"
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report.keys() >= REPORT_KEYS
    assert report["units"] == 40
    assert report["accepted"] + report["rejected"] == 40
    assert report["reconciliation_balanced"]
    assert report["chain_verified"]
    assert set(report["latency_ms"]) >= {"p50", "p99", "p999"}
    assert report["database_url"].startswith("sqlite:///")
    assert report["hmi_url"].startswith("http://127.0.0.1:"), "the HMI was served beside the line"
    engine = create_engine(report["database_url"])
    try:
        with engine.connect() as conn:
            steps = conn.execute(
                text("SELECT step FROM ebr_steps WHERE batch_id = :b ORDER BY id"),
                {"b": report["batch_id"]},
            ).scalars()
            done = list(steps)
    finally:
        engine.dispose()
    assert done[:2] == ["header", "clearance"], "the demo's verifier verified the clearance"
    assert "reconciliation" in done, "the batch record follows the line to reconciliation"
