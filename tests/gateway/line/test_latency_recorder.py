"""The latency ring: the most recent `capacity` samples, percentiles over them."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.line.ledger import LatencyRecorder


@given(st.lists(st.floats(0.0, 1e6), max_size=200), st.integers(1, 50))
def test_the_ring_keeps_the_most_recent_samples(samples: list[float], capacity: int) -> None:
    recorder = LatencyRecorder(capacity)
    model: deque[float] = deque(maxlen=capacity)
    for ms in samples:
        recorder.record(ms)
        model.append(ms)
        assert len(recorder) == len(model)
    expected = sorted(model)
    got = recorder.percentiles()
    assert got["count"] == float(len(expected))
    assert got["max"] == (round(expected[-1], 3) if expected else None)
    if expected:
        middle = min(len(expected) - 1, max(0, round(0.5 * len(expected)) - 1))
        assert got["p50"] == round(expected[middle], 3), "the median of exactly the kept ones"


def test_percentiles_of_known_samples() -> None:
    recorder = LatencyRecorder(1000)
    for ms in range(1, 1001):
        recorder.record(float(ms))
    assert recorder.percentiles() == {
        "p50": 500.0,
        "p99": 990.0,
        "p999": 999.0,
        "max": 1000.0,
        "count": 1000.0,
    }


def test_an_empty_ring_has_no_percentiles() -> None:
    assert LatencyRecorder(3).percentiles()["p99"] is None
    with pytest.raises(ValueError, match="at least 1"):
        LatencyRecorder(0)
