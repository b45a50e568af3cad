"""The benchmark runs and reports every key the issue asks for (bench/ judges speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_codes_benchmark_prints_its_json() -> None:
    result = subprocess.run(
        [sys.executable, "bench/codes.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    for key in ("alloc_per_s", "baseline_per_s", "parse_per_s", "alloc_vs_baseline"):
        assert report[key] > 0
    assert set(report["met"]) == {"alloc_per_s", "alloc_vs_baseline", "parse_per_s"}
