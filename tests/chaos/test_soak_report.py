"""The soak's figures from its samples: the minute's task count and the verdict."""

from __future__ import annotations

from pathlib import Path

from chaos.soak import Sample, _fewest_tasks, verdict


def test_a_task_in_flight_at_one_sample_is_not_counted(tmp_path: Path) -> None:
    samples = tmp_path / "tasks.txt"
    samples.write_text("100 60\n150 48\n155 50\n160 48\n", encoding="ascii")
    assert _fewest_tasks(samples, since=150) == 48
    assert _fewest_tasks(samples, since=155) == 48
    assert _fewest_tasks(samples, since=161) is None
    assert _fewest_tasks(tmp_path / "absent.txt", since=0) is None


def _sample(minute: int, rss: float, fds: int = 26, tasks: int = 48) -> Sample:
    return Sample(minute, rss, fds, tasks, 600, 20.0, 50.0)


def test_flat_means_memory_within_ten_percent_and_no_more_files_or_tasks() -> None:
    warm = [_sample(1, 100.0), _sample(2, 150.0)]
    assert verdict([*warm, _sample(3, 200.0), _sample(60, 219.0)])["verdict"] == "flat"
    assert verdict([*warm, _sample(3, 200.0), _sample(60, 221.0)])["verdict"] == "growing"
    assert verdict([*warm, _sample(3, 200.0), _sample(60, 200.0, fds=28)])["verdict"] == "growing"
    assert verdict([*warm, _sample(3, 200.0), _sample(60, 200.0, tasks=49)])["verdict"] == "growing"
