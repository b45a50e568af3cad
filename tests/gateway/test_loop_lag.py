"""The loop-lag probe, against a real event loop blocked with time.sleep."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.loop_lag import LoopLagProbe


class Events:
    def __init__(self) -> None:
        self.lag: list[float] = []
        self.recover: list[float] = []


async def block_loop(times: int, seconds: float) -> None:
    """Block the whole loop `times` times, letting one round of other tasks run in between.

    The probe's timer is never due in the very round that follows a block, so it samples after
    every other block at most and each of its samples spans at least one block.
    """
    for _ in range(times):
        time.sleep(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def probe(events: Events) -> LoopLagProbe:
    return LoopLagProbe(
        interval_s=0.01,
        threshold_s=0.1,
        on_lag=events.lag.append,
        on_recover=events.recover.append,
    )


async def test_a_quiet_loop_does_not_lag(events: Events) -> None:
    probe = LoopLagProbe(interval_s=0.01, threshold_s=0.25, on_lag=events.lag.append)
    async with asyncio.TaskGroup() as group:
        task = group.create_task(probe.run())
        await asyncio.sleep(0.3)
        task.cancel()
    stats = probe.stats()
    assert stats.samples >= 5
    assert not stats.lagging
    assert stats.max_s < 0.25
    assert events.lag == []


async def test_one_stall_is_measured_but_not_alarmed(probe: LoopLagProbe, events: Events) -> None:
    async with asyncio.TaskGroup() as group:
        task = group.create_task(probe.run())
        await asyncio.sleep(0.05)
        await block_loop(1, 0.3)
        await asyncio.sleep(0.1)
        task.cancel()
    assert events.lag == []
    assert probe.stats().max_s >= 0.25


async def test_a_stalled_loop_alarms_once_and_recovers(probe: LoopLagProbe, events: Events) -> None:
    async with asyncio.TaskGroup() as group:
        task = group.create_task(probe.run())
        await asyncio.sleep(0.05)
        await block_loop(6, 0.15)
        assert len(events.lag) == 1
        assert events.lag[0] > 0.1
        assert probe.stats().lagging
        async with asyncio.timeout(5):
            while not events.recover:
                await asyncio.sleep(0.01)
        task.cancel()
    assert len(events.lag) == 1
    assert len(events.recover) == 1
    assert events.recover[0] <= 0.1
    stats = probe.stats()
    assert not stats.lagging
    assert stats.max_s >= 0.14
    assert stats.p99_s <= stats.max_s


def test_stats_over_the_rolling_window() -> None:
    probe = LoopLagProbe(window=100)
    assert probe.stats().samples == 0
    for lag in range(200):
        probe.record(lag / 1000)
    stats = probe.stats()
    assert stats.samples == 100
    assert stats.max_s == pytest.approx(0.199)
    assert stats.p99_s == pytest.approx(0.198)
    assert stats.last_s == pytest.approx(0.199)


def test_recording_drives_the_callbacks() -> None:
    events = Events()
    probe = LoopLagProbe(
        threshold_s=0.1, on_lag=events.lag.append, on_recover=events.recover.append
    )
    for lag in (0.2, 0.05, 0.2, 0.3, 0.4, 0.01, 0.02):
        probe.record(lag)
    assert events.lag == [0.3]
    assert events.recover == [0.01]


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoopLagProbe(interval_s=0)
