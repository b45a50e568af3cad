"""One TagSource suite, run against the Modbus driver connected to the Modbus device simulator
over Modbus TCP and over Modbus RTU through a pseudo-terminal pair; then the bus faults (a dead
slave, a slow slave, a dropped link) and a SIGKILLed simulator process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator

import pytest

from drivers.base import LinkState, Quality, TagSource, UsageError
from drivers.modbus import (
    DataType,
    ModbusTagSource,
    PollSettings,
    RtuSettings,
    Table,
    Tag,
    TcpSettings,
    plan_reads,
)
from simulators.modbus_device import ModbusDeviceSimulator, PtyLink, default_points

POLL = PollSettings(
    request_timeout_s=0.25, poll_interval_s=0.05, breaker_failures=2, breaker_skip_s=0.6
)
POINTS = default_points()
TAGS = [point.tag for point in POINTS]
NAMES = [tag.name for tag in TAGS]
CHECKWEIGHER = [tag.name for tag in TAGS if tag.slave == 1]
REJECT_STATION = [tag.name for tag in TAGS if tag.slave == 2]
CONSTANTS = [point.tag.name for point in POINTS if point.behaviour == "constant"]

Rig = tuple[ModbusDeviceSimulator, ModbusTagSource]


@contextlib.asynccontextmanager
async def rig(kind: str, extra_tags: list[Tag] | None = None) -> AsyncIterator[Rig]:
    async with contextlib.AsyncExitStack() as stack:
        simulator = ModbusDeviceSimulator(POINTS)
        transport: TcpSettings | RtuSettings
        if kind == "tcp":
            stack.push_async_callback(simulator.stop)
            transport = TcpSettings("127.0.0.1", await simulator.start_tcp())
        else:
            link = await stack.enter_async_context(PtyLink())
            stack.push_async_callback(simulator.stop)
            await simulator.start_rtu(link.ends[0], baudrate=115200, parity="N")
            transport = RtuSettings(link.ends[1], baudrate=115200, parity="N")
        source = ModbusTagSource(f"{kind}-device", transport, TAGS + (extra_tags or []), POLL)
        await stack.enter_async_context(source)
        await source.wait_connected(3)
        yield simulator, source


@pytest.fixture(params=["tcp", "rtu"])
async def device(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    async with rig(request.param) as pair:
        yield pair


async def test_is_a_tag_source_and_reports_up(device: Rig) -> None:
    _, source = device
    assert isinstance(source, TagSource)
    health = source.health()
    assert health.state is LinkState.UP
    assert health.kind == "modbus"


async def test_reads_every_tag_with_merged_requests(device: Rig) -> None:
    simulator, source = device
    before = source.requests_sent
    values = await source.read(NAMES)
    assert list(values) == NAMES
    assert all(v.quality is Quality.GOOD for v in values.values())
    for name in CONSTANTS:
        assert values[name].value == simulator.value(name), name
    assert source.requests_sent - before == len(plan_reads(TAGS, max_gap=POLL.max_gap))
    assert source.requests_sent - before < len(NAMES)
    assert source.health().last_good_value_age_s is not None


async def test_one_request_per_tag_baseline_reads_the_same(device: Rig) -> None:
    _, source = device
    before = source.requests_sent
    each = await source.read_each(CONSTANTS)
    assert source.requests_sent - before == len(CONSTANTS)
    merged = await source.read(CONSTANTS)
    assert {k: v.value for k, v in each.items()} == {k: v.value for k, v in merged.items()}


async def test_values_change_over_time(device: Rig) -> None:
    _, source = device
    first = (await source.read(["units_weighed"]))["units_weighed"].value
    await asyncio.sleep(0.25)
    second = (await source.read(["units_weighed"]))["units_weighed"].value
    assert isinstance(first, int)
    assert isinstance(second, int)
    assert second > first


async def test_writes_every_type_and_reads_back(device: Rig) -> None:
    simulator, source = device
    written = {
        "target_weight_g": 262.5,
        "tolerance_g": 3.25,
        "product_code": "PK-0042",
        "tare_mg": -123_456,
        "calibration": 1.000123456789,
        "batch_size": 65535,
        "reject_enable": False,
        "reset_counters": True,
        "reject_delay_ms": 420,
        "reject_command": True,
    }
    await source.write(written)
    for name, value in written.items():
        assert simulator.value(name) == value, name
    read_back = await source.read(list(written))
    assert {k: v.value for k, v in read_back.items()} == written


async def test_bad_writes_are_refused_before_anything_is_sent(device: Rig) -> None:
    simulator, source = device
    before = source.requests_sent
    with pytest.raises(UsageError, match="read-only input table"):
        await source.write({"batch_size": 5, "weight_g": 1.0})
    with pytest.raises(UsageError, match=r"outside 0\.\.65535"):
        await source.write({"batch_size": -1})
    with pytest.raises(UsageError, match="takes True or False"):
        await source.write({"reject_enable": 1})
    with pytest.raises(UsageError, match="unknown tag 'nope'"):
        await source.write({"nope": 1})
    with pytest.raises(UsageError, match="unknown tag 'nope'"):
        await source.read(["weight_g", "nope"])
    assert source.requests_sent == before
    assert simulator.value("batch_size") == 1000


async def test_subscribe_reports_initial_values_then_changes(device: Rig) -> None:
    simulator, source = device
    seen: dict[str, object] = {}
    async with contextlib.aclosing(source.subscribe(["batch_size", "bin_full"])) as changes:
        async for name, value in changes:
            assert value.quality is Quality.GOOD
            seen[name] = value.value
            if len(seen) == 2:
                break
        assert seen == {"batch_size": 1000, "bin_full": False}
        simulator.set_value("bin_full", True)
        name, value = await asyncio.wait_for(anext(changes), 2)
    assert (name, value.value) == ("bin_full", True)


async def test_dead_slave_does_not_stall_the_others(device: Rig) -> None:
    simulator, source = device
    simulator.set_fault(2, silent=True)
    cycles, timed_out_reads = 8, 0
    started = time.monotonic()
    for _ in range(cycles):
        values = await source.read(NAMES)
        assert all(values[name].quality is Quality.GOOD for name in CHECKWEIGHER)
        assert all(values[name].quality is Quality.BAD for name in REJECT_STATION)
    elapsed = time.monotonic() - started
    health = source.health()
    assert health.state is LinkState.DEGRADED
    assert health.details["skipped_slaves"] == "2"
    timed_out_reads = health.error_count
    assert timed_out_reads == POLL.breaker_failures
    assert elapsed < cycles * POLL.request_timeout_s
    simulator.set_fault(2, silent=False)
    await asyncio.sleep(POLL.breaker_skip_s)
    values = await source.read(NAMES)
    assert all(v.quality is Quality.GOOD for v in values.values())
    assert source.health().state is LinkState.UP


async def test_slow_slave_times_out_then_recovers(device: Rig) -> None:
    simulator, source = device
    simulator.set_fault(1, delay_s=POLL.request_timeout_s * 2)
    values = await source.read(["batch_size"])
    assert values["batch_size"].quality is Quality.BAD
    assert "did not answer" in (source.health().last_error or "")
    simulator.set_fault(1)
    await asyncio.sleep(POLL.request_timeout_s * 2)
    values = await source.read(["batch_size"])
    assert values["batch_size"].value == 1000


async def test_garbage_answers_give_bad_values_then_recover(device: Rig) -> None:
    simulator, source = device
    simulator.set_fault(1, garbage=True)
    values = await source.read(["batch_size"])
    assert values["batch_size"].quality is Quality.BAD
    assert source.health().error_count >= 1
    simulator.set_fault(1)
    await asyncio.sleep(POLL.request_timeout_s)
    values = await source.read(["batch_size"])
    assert values["batch_size"].value == 1000
    assert source.health().state is not LinkState.DOWN


@pytest.mark.parametrize("kind", ["tcp", "rtu"])
async def test_exception_response_names_the_problem(kind: str) -> None:
    missing = Tag("not_on_device", 1, Table.HOLDING, 900, DataType.UINT16)
    async with rig(kind, [missing]) as (_, source):
        values = await source.read(["not_on_device", "batch_size"])
        assert values["not_on_device"].quality is Quality.BAD
        assert values["batch_size"].quality is Quality.GOOD
        assert "illegal data address" in (source.health().last_error or "")
        with pytest.raises(UsageError, match="illegal data address"):
            await source.write({"not_on_device": 1})


async def test_tcp_link_drop_is_down_then_up_again() -> None:
    async with rig("tcp") as (simulator, source):
        simulator.disconnect()
        await wait_for_state(source, LinkState.DOWN, 2.0)
        await wait_for_state(source, LinkState.UP, 5.0)
        assert (await source.read(["batch_size"]))["batch_size"].value == 1000


async def test_subscription_reports_stale_values_while_the_link_is_down() -> None:
    async with rig("tcp") as (simulator, source):
        async with contextlib.aclosing(source.subscribe(["batch_size"])) as changes:
            name, first = await asyncio.wait_for(anext(changes), 2)
            assert (first.value, first.quality) == (1000, Quality.GOOD)
            await simulator.stop()
            name, stale = await asyncio.wait_for(anext(changes), 2)
        assert (name, stale.value, stale.quality) == ("batch_size", 1000, Quality.STALE)
        assert source.health().state is LinkState.DOWN


async def test_rtu_requests_are_spaced_by_the_inter_frame_gap() -> None:
    async with contextlib.AsyncExitStack() as stack:
        link = await stack.enter_async_context(PtyLink())
        simulator = ModbusDeviceSimulator(POINTS)
        stack.push_async_callback(simulator.stop)
        await simulator.start_rtu(link.ends[0], baudrate=1200, parity="N")
        settings = RtuSettings(link.ends[1], baudrate=1200, parity="N")
        source = await stack.enter_async_context(ModbusTagSource("slow-bus", settings, TAGS, POLL))
        await source.wait_connected(3)
        await source.read_each(CHECKWEIGHER[:6])
        gaps = [b - a for a, b in itertools.pairwise(simulator.served_at)]
        assert len(gaps) == 5
        assert min(gaps) >= settings.inter_frame_s * 0.9


async def wait_for_state(source: ModbusTagSource, state: LinkState, within_s: float) -> float:
    started = time.monotonic()
    while source.health().state is not state:
        if time.monotonic() - started > within_s:
            pytest.fail(f"{source.name} not {state.value} within {within_s} s: {source.health()}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


# --- a simulator process that is SIGKILLed and comes back -------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def simulator_process(port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.modbus_device",
        "--tcp-port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        assert b"listening" in line, line
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("restart_after_s", [2.0, 10.0], ids=["2s", "10s"])
async def test_sigkilled_simulator_is_down_within_2s_and_up_within_5s_of_return(
    restart_after_s: float,
) -> None:
    port = free_port()
    source = ModbusTagSource("killed-device", TcpSettings("127.0.0.1", port), TAGS, POLL)
    async with source:
        async with simulator_process(port) as process:
            await source.wait_connected(5)
            process.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            down_after = await wait_for_state(source, LinkState.DOWN, 2.0)
        await asyncio.sleep(max(0.0, restart_after_s - (time.monotonic() - killed_at)))
        async with simulator_process(port):
            up_after = await wait_for_state(source, LinkState.UP, 5.0)
            values = await source.read(["batch_size"])
    assert values["batch_size"].value == 1000
    print(f"down after {down_after:.2f} s, up {up_after:.2f} s after the simulator returned")
