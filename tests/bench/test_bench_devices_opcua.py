"""The OPC UA device benchmark runs and prints both figures (bench/ judges speed, not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_opcua_benchmark_prints_batched_and_single_reads() -> None:
    result = subprocess.run(
        [sys.executable, "bench/devices_opcua.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["opcua_batched_reads_per_s"] > 0
    assert report["opcua_single_reads_per_s"] > 0
