"""The trace benchmark runs and reports the issue's key `trace_query_ms_p99` (bench/ judges
speed; this checks that it runs and says what it measured)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_trace_benchmark_prints_its_json() -> None:
    result = subprocess.run(
        [sys.executable, "bench/trace_query.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    assert report["units"] == 2000
    assert (report["cases"], report["pallets"]) == (100, 2)
    assert report["trace_query_ms_p99"] > 0
    assert set(report["trace_query_ms_p99_by_level"]) == {"unit", "case", "pallet"}
    assert set(report["setup_s"]) == {"allocate_s", "journal_units_s", "journal_packing_s"}
