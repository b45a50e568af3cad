"""No lost notifications: every unit trigger and every event at 1,500 units/min, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from drivers.base import Quality, UsageError
from drivers.line_plc.protocol import VerdictAck
from drivers.opcua import OpcUaClient, OpcUaSettings
from simulators.line_plc.line import GateOutcome, LineConfig
from simulators.line_plc.packml import Command, State
from simulators.line_plc.server import LinePlcServer, plc_node_id
from simulators.ports import free_port

TRIGGER = plc_node_id("Conveyor.UnitTrigger")
RATE_UPM = 1500.0
RUN_S = 4.0

pytestmark = pytest.mark.asyncio(loop_scope="module")


def settings_for(endpoint: str, publishing_interval_ms: int = 200) -> OpcUaSettings:
    """By default a publishing interval of 200 ms: five units trigger between two publishes."""
    return OpcUaSettings(
        name="line-plc",
        endpoint=endpoint,
        request_timeout_s=2.0,
        connect_timeout_s=3.0,
        publishing_interval_ms=publishing_interval_ms,
        stale_after_s=3.0,
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def plc() -> AsyncIterator[LinePlcServer]:
    config = LineConfig(rate_upm=RATE_UPM, gate_distance=8, units_per_case=10, cases_per_pallet=2)
    async with LinePlcServer(port=free_port(), line=config, acting_time_s=0.02) as server:
        yield server


async def run_for(plc: LinePlcServer, seconds: float) -> int:
    """Reset, start, run `seconds`, stop; the number of units triggered."""
    plc.reset_simulation()
    plc.command(Command.RESET)
    async with asyncio.timeout(3):
        while plc.machine.state is not State.IDLE:
            await asyncio.sleep(0.01)
    plc.command(Command.START)
    await asyncio.sleep(seconds)
    plc.command(Command.STOP)
    return plc.line.counters.total


async def collect_triggers(client: OpcUaClient, plc: LinePlcServer, queue_size: int) -> list[int]:
    stream = client.subscribe([TRIGGER], queue_size=queue_size)
    seen: list[int] = []
    try:
        async with asyncio.timeout(5):
            async for _, value in stream:
                if value.quality is Quality.GOOD:
                    break
        running = asyncio.create_task(run_for(plc, RUN_S))
        total = 0
        async with asyncio.timeout(RUN_S + 10):
            async for _, value in stream:
                assert value.quality is Quality.GOOD
                seen.append(int(value.value))  # type: ignore[arg-type]
                if running.done():
                    total = running.result()
                    if seen[-1] >= total:
                        break
    except TimeoutError:
        pass
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return seen


async def test_a_queued_subscription_receives_every_unit_trigger_in_order(
    plc: LinePlcServer,
) -> None:
    async with OpcUaClient(settings_for(plc.endpoint)) as client:
        await client.wait_up(5)
        seen = await collect_triggers(client, plc, queue_size=64)
    total = plc.line.counters.total
    assert total >= RATE_UPM / 60 * RUN_S * 0.9
    assert seen == list(range(1, total + 1))


async def test_without_a_queue_rapid_triggers_are_lost(plc: LinePlcServer) -> None:
    """The control: queue size 1 keeps only the newest trigger of each publishing interval."""
    async with OpcUaClient(settings_for(plc.endpoint)) as client:
        await client.wait_up(5)
        seen = await collect_triggers(client, plc, queue_size=1)
    assert seen == sorted(seen)
    assert len(seen) < plc.line.counters.total / 2


async def test_every_event_arrives_once_and_in_order(plc: LinePlcServer) -> None:
    async with OpcUaClient(settings_for(plc.endpoint, publishing_interval_ms=20)) as client:
        await client.wait_up(5)
        events = client.events()
        messages: list[str] = []
        try:
            first = asyncio.ensure_future(anext(events))
            await asyncio.sleep(0.5)
            running = asyncio.create_task(run_for(plc, RUN_S))
            messages.append((await first).message)
            async with asyncio.timeout(RUN_S + 10):
                async for event in events:
                    messages.append(event.message)
                    if event.message == "state Stopped":
                        break
            await running
        finally:
            await events.aclose()  # type: ignore[attr-defined]
    line = plc.line
    total = line.counters.total
    words = [m.split(" ", 1) for m in messages]
    triggers = [int(n) for word, n in words if word == "trigger"]
    rejects = [int(n) for word, n in words if word == "reject"]
    assert triggers == list(range(1, total + 1))
    assert rejects == [ref for ref, o in line.outcomes.items() if o.gate.value == "REJECTED"]
    assert rejects == list(range(1, total - 8 + 1)), "fail-safe: no verdicts, every unit fell"
    assert [m for m in messages if m.startswith("state ")][-3:] == [
        "state Execute",
        "state Stopping",
        "state Stopped",
    ]


async def test_queue_size_must_be_positive(plc: LinePlcServer) -> None:
    async with OpcUaClient(settings_for(plc.endpoint)) as client:
        with pytest.raises(UsageError, match="at least 1"):
            await anext(client.subscribe([TRIGGER], queue_size=0))


async def test_verdicts_over_opc_ua_decide_the_gate(plc: LinePlcServer) -> None:
    """A minimal line runtime: on each "trigger <ref>" event, SetVerdict(ref, ref % 3 != 0)."""
    acks: dict[int, int] = {}
    packed: list[str] = []
    async with OpcUaClient(settings_for(plc.endpoint, publishing_interval_ms=20)) as client:
        await client.wait_up(5)
        events = client.events()
        try:
            first = asyncio.ensure_future(anext(events))
            await asyncio.sleep(0.5)
            running = asyncio.create_task(run_for(plc, RUN_S))
            await first
            async with asyncio.timeout(RUN_S + 10):
                async for event in events:
                    word, _, number = event.message.partition(" ")
                    if word == "trigger":
                        ref = int(number)
                        (ack,) = await client.call(
                            plc_node_id("Conveyor"), "SetVerdict", [ref, ref % 3 != 0]
                        )
                        acks[ref] = int(ack)  # type: ignore[arg-type]
                    elif word in ("case", "pallet"):
                        packed.append(event.message)
                    if event.message == "state Stopped":
                        break
            await running
            (unknown,) = await client.call(plc_node_id("Conveyor"), "SetVerdict", [10**6, True])
            (late,) = await client.call(plc_node_id("Conveyor"), "SetVerdict", [1, True])
        finally:
            await events.aclose()  # type: ignore[attr-defined]
    assert (unknown, late) == (VerdictAck.UNKNOWN, VerdictAck.LATE)
    outcomes = plc.line.outcomes
    assert set(acks) == set(range(1, plc.line.counters.total + 1))
    assert list(acks.values()).count(VerdictAck.APPLIED) >= len(acks) * 0.95
    for ref, outcome in outcomes.items():
        if acks[ref] == VerdictAck.APPLIED:
            assert outcome.verdict is (ref % 3 != 0)
            wanted = GateOutcome.PASSED if ref % 3 else GateOutcome.REJECTED
            assert outcome.gate is wanted, ref
        else:
            assert outcome.gate is GateOutcome.REJECTED, "a late verdict: fail-safe reject"
    counters = plc.line.counters
    assert counters.cases >= 3
    assert [m for m in packed if m.startswith("case")] == [
        f"case {n}" for n in range(1, counters.cases + 1)
    ]
    assert [m for m in packed if m.startswith("pallet")] == [
        f"pallet {n}" for n in range(1, counters.pallets + 1)
    ]
