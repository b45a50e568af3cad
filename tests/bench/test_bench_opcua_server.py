"""The MES pull benchmark runs and prints its figures (bench/ judges speed, not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_opcua_server_benchmark_prints_pull_rate_latency_and_baseline() -> None:
    result = subprocess.run(
        [sys.executable, "bench/opcua.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    assert report["records_per_s"] > 0
    assert report["batch_100k_s"] > 0
    assert set(report["call_latency_ms"]) == {"p50", "p99"}
    assert report["baseline_reads_per_s"] > 0
