import json

import pytest

from gateway.cli import main


def test_vision_bench_prints_json_with_the_required_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["vision", "bench", "--frames", "13", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in (
        "median_ms",
        "p99_ms",
        "baseline_median_ms",
        "speedup",
        "false_accepts",
        "good_accept_rate",
        "grade_median_ms",
    ):
        assert key in report
    assert report["false_accepts"] == 0
    assert report["frames"] == 13


def test_vision_bench_refuses_too_few_frames(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vision", "bench", "--frames", "3"]) == 1
    assert "fix:" in capsys.readouterr().err
