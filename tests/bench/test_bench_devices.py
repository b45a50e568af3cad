"""bench/devices.py runs and reports every key issue 3 asks for (bench/ judges speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = (
    "modbus_merged_tags_per_s",
    "modbus_per_tag_tags_per_s",
    "opcua_batched_reads_per_s",
    "opcua_single_reads_per_s",
    "camera_frames_per_s",
)


@pytest.mark.slow
def test_devices_benchmark_prints_its_json() -> None:
    result = subprocess.run(
        [sys.executable, "bench/devices.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    )
    report = json.loads(result.stdout)
    for key in KEYS:
        assert report[key] > 0, key
