"""The Modbus benchmark runs and reports the keys bench/devices.py merges (speed is not judged)."""

from __future__ import annotations

from bench.devices_modbus import measure_async


async def test_modbus_benchmark_reports_both_rates() -> None:
    report = await measure_async(tag_count=12, seconds=0.1)
    assert float(report["modbus_merged_tags_per_s"]) > 0  # type: ignore[arg-type]
    assert float(report["modbus_per_tag_tags_per_s"]) > 0  # type: ignore[arg-type]
    assert report["modbus_tags"] == 12
