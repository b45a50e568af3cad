import json

import pytest

from gateway.cli import main

REQUIRED_KEYS = (
    "median_ms",
    "p99_ms",
    "baseline_median_ms",
    "speedup",
    "false_accepts",
    "good_accept_rate",
    "grade_median_ms",
)


@pytest.mark.slow
def test_vision_bench_prints_json_with_the_required_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["vision", "bench", "--frames", "13", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in REQUIRED_KEYS:
        assert key in report
        assert report["set"]["keys"][key] in report["set"]["descriptions"]
    for group in ("hard", "hard_640x480", "corpus"):
        assert group in report["set"]["descriptions"]
        assert report[group]["frames"] > 0
        assert "baseline_median_ms" in report[group]
    assert report["set"]["keys"]["median_ms"] == "hard"
    assert report["set"]["keys"]["false_accepts"] == "corpus"
    assert report["median_ms"] == report["hard"]["median_ms"]
    assert report["false_accepts"] == report["corpus"]["false_accepts"] == 0
    assert report["hard"]["false_accepts"] == 0
    assert report["frames"] == report["hard"]["frames"] == report["corpus"]["frames"] == 13


def test_vision_bench_refuses_too_few_frames(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vision", "bench", "--frames", "3"]) == 1
    assert "fix:" in capsys.readouterr().err
