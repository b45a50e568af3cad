"""TagSource contract for OPC UA: the driver against the line PLC simulator.

In-process server on a free port for the functional contract; a child process for the
kill-and-restart tests (SIGKILL, then restart after 2 s and after 10 s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from asyncua.client.ua_client import UaClient

from drivers.base import LinkState, Quality, TagSource, TagValue, UsageError
from drivers.opcua import Identity, OpcUaClient, OpcUaSettings, SecurityMode, SecurityPolicy
from simulators.line_plc.certs import make_self_signed
from simulators.line_plc.harness import PlcProcess
from simulators.line_plc.line import LineConfig
from simulators.line_plc.packml import Command, State
from simulators.line_plc.server import APPLICATION_URI, LinePlcServer, plc_node_id
from simulators.ports import free_port


def node(name: str) -> str:
    return plc_node_id(name)


STATE, TRIGGER, TOTAL, RATE = (
    node("PackML.State"),
    node("Conveyor.UnitTrigger"),
    node("Counters.Total"),
    node("Conveyor.RateUpm"),
)


def settings_for(endpoint: str, **kwargs: Any) -> OpcUaSettings:
    base: dict[str, Any] = {
        "name": "line-plc",
        "endpoint": endpoint,
        "request_timeout_s": 1.0,
        "connect_timeout_s": 3.0,
        "publishing_interval_ms": 50,
        "stale_after_s": 1.0,
    }
    return OpcUaSettings(**{**base, **kwargs})


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared_plc() -> AsyncIterator[LinePlcServer]:
    """One server for the module: asyncua needs about 2 s to build a server's address space."""
    server = LinePlcServer(port=free_port(), line=LineConfig(rate_upm=1200), acting_time_s=0.05)
    async with server:
        yield server


@pytest_asyncio.fixture(loop_scope="module")
async def plc(shared_plc: LinePlcServer) -> LinePlcServer:
    shared_plc.reset_simulation()
    await asyncio.sleep(0.05)
    return shared_plc


@pytest_asyncio.fixture(loop_scope="module")
async def client(plc: LinePlcServer) -> AsyncIterator[OpcUaClient]:
    async with OpcUaClient(settings_for(plc.endpoint)) as c:
        await c.wait_up(5)
        yield c


async def next_value(
    stream: AsyncIterator[tuple[str, TagValue]], want: Any, timeout: float = 5.0
) -> tuple[str, TagValue]:
    async with asyncio.timeout(timeout):
        async for tag, value in stream:
            if want(tag, value):
                return tag, value
    raise AssertionError("subscription ended")


async def run_line(client: OpcUaClient) -> None:
    await client.call(node("PackML"), "Reset")
    await wait_state(client, State.IDLE)
    await client.call(node("PackML"), "Start")
    await wait_state(client, State.EXECUTE)


async def wait_state(client: OpcUaClient, state: State, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while (await client.read([STATE]))[STATE].value != int(state):
            await asyncio.sleep(0.02)


class RequestCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.calls = 0
        original = getattr(UaClient, name)

        async def counting(this: UaClient, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await original(this, *args, **kwargs)

        monkeypatch.setattr(UaClient, name, counting)


# --- the contract ---------------------------------------------------------------------------


async def test_it_is_a_tag_source(client: OpcUaClient) -> None:
    assert isinstance(client, TagSource)
    health = client.health()
    assert health.state is LinkState.UP
    assert health.kind == "opcua"
    assert health.details["security"] == "None/None"


async def test_read_is_one_request_for_a_group(
    client: OpcUaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = RequestCounter(monkeypatch, "read_attributes")
    tags = [STATE, TOTAL, RATE, node("PackML.StateName"), node("CasePacker.CaseComplete")]
    values = await client.read(tags)
    assert counter.calls == 1
    assert list(values) == tags
    assert values[STATE].value == int(State.STOPPED)
    assert values[node("PackML.StateName")].value == "Stopped"
    assert values[RATE].value == 1200.0
    assert all(v.quality is Quality.GOOD for v in values.values())
    assert values[STATE].received_time.tzinfo is not None
    assert client.health().last_good_value_age_s is not None


async def test_write_is_one_request_and_takes_effect(
    client: OpcUaClient, plc: LinePlcServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.read([RATE, node("PackML.Command")])
    counter = RequestCounter(monkeypatch, "write_attributes")
    await client.write({RATE: 600, node("PackML.Command"): "Reset"})
    assert counter.calls == 1
    await wait_state(client, State.IDLE)
    assert plc.line.rate_upm == 600.0


async def test_command_variable_reports_illegal_commands(client: OpcUaClient) -> None:
    await client.write({node("PackML.Command"): "Hold"})
    error = node("PackML.LastCommandError")
    async with asyncio.timeout(3):
        while not (await client.read([error]))[error].value:
            await asyncio.sleep(0.02)
    assert "Hold is not allowed in state Stopped" in str((await client.read([error]))[error].value)
    assert (await client.read([STATE]))[STATE].value == int(State.STOPPED)


async def test_bad_writes_and_reads_are_usage_errors(client: OpcUaClient) -> None:
    with pytest.raises(UsageError, match="does not fit the node's type Double"):
        await client.write({RATE: "fast"})
    with pytest.raises(UsageError, match="write refused"):
        await client.write({TOTAL: 5})
    with pytest.raises(UsageError, match=r"unknown tags ns=1;s=Line\.Nope"):
        await client.read([STATE, node("Nope")])
    with pytest.raises(UsageError, match="is not a NodeId"):
        await client.read(["no node id"])


async def test_subscribe_delivers_initial_values_and_changes(client: OpcUaClient) -> None:
    stream = client.subscribe([STATE, TRIGGER])
    try:
        _, first = await next_value(stream, lambda t, v: t == STATE)
        assert first.value == int(State.STOPPED)
        await run_line(client)
        seen: list[int] = []
        async with asyncio.timeout(5):
            async for tag, value in stream:
                if tag == TRIGGER and value.value:
                    assert value.quality is Quality.GOOD
                    seen.append(int(value.value))  # type: ignore[arg-type]
                if len(seen) >= 5:
                    break
        assert seen == sorted(seen)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_silent_subscription_reports_stale_then_resubscribes(
    client: OpcUaClient, plc: LinePlcServer
) -> None:
    stream = client.subscribe([STATE])
    try:
        await next_value(stream, lambda t, v: v.quality is Quality.GOOD)
        dropped_at = time.monotonic()
        assert await plc.drop_subscriptions() >= 1
        _, stale = await next_value(stream, lambda t, v: v.quality is Quality.STALE)
        assert stale.value == int(State.STOPPED), "the last value is kept, marked stale"
        assert time.monotonic() - dropped_at < client.settings.stale_after_s + 1.0
        await next_value(stream, lambda t, v: v.quality is Quality.GOOD, timeout=3)
        await wait_for_state(client, LinkState.UP, 2.0)
        assert client.health().error_count == 0, "the session itself never failed"
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_subscribing_to_a_missing_node_reports_it_bad(client: OpcUaClient) -> None:
    stream = client.subscribe([STATE, node("Nope")])
    try:
        _, value = await next_value(stream, lambda t, v: t == node("Nope"))
        assert value.quality is Quality.BAD
        assert value.value is None
        await next_value(stream, lambda t, v: t == STATE and v.quality is Quality.GOOD)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_method_calls_and_refused_commands(client: OpcUaClient, plc: LinePlcServer) -> None:
    assert await client.call(node("PackML"), "Reset") == [int(State.RESETTING)]
    await wait_state(client, State.IDLE)
    with pytest.raises(UsageError, match="BadInvalidState"):
        await client.call(node("PackML"), "Unhold")
    assert plc.machine.state is State.IDLE
    assert await client.call(node("PackML"), node("PackML.Start")) == [int(State.STARTING)]


async def test_reject_gate_and_events(client: OpcUaClient, plc: LinePlcServer) -> None:
    events = client.events()
    try:
        first = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.3)
        await run_line(client)
        async with asyncio.timeout(3):
            on_conveyor: list[int] = []
            while not on_conveyor:
                on_conveyor = plc.line.on_conveyor()
                await asyncio.sleep(0.01)
        ref = on_conveyor[0]
        assert await client.call(node("Conveyor"), "RejectUnit", [ref]) == [True]
        assert await client.call(node("Conveyor"), "RejectUnit", [10**9]) == [False]
        messages = [(await first).message]
        async with asyncio.timeout(5):
            async for event in events:
                messages.append(event.message)
                if event.message == f"reject {ref}":
                    break
        assert "state Execute" in messages
        values = await client.read([node("RejectGate.BinSensor"), node("RejectGate.LastRejected")])
        assert values[node("RejectGate.BinSensor")].value == 1
        assert values[node("RejectGate.LastRejected")].value == ref
    finally:
        await events.aclose()  # type: ignore[attr-defined]


async def test_reject_by_written_variable(client: OpcUaClient, plc: LinePlcServer) -> None:
    plc.command(Command.RESET)
    await wait_state(client, State.IDLE)
    plc.command(Command.START)
    async with asyncio.timeout(3):
        while not plc.line.on_conveyor():
            await asyncio.sleep(0.01)
    ref = plc.line.on_conveyor()[0]
    await client.write({node("Conveyor.RejectRef"): ref})
    async with asyncio.timeout(3):
        while (await client.read([node("RejectGate.LastRejected")]))[
            node("RejectGate.LastRejected")
        ].value != ref:
            await asyncio.sleep(0.02)


# --- kill and restart -----------------------------------------------------------------------


@pytest.fixture
def secured_peer(tmp_path: Path) -> tuple[list[str], OpcUaSettings]:
    """Arguments for a Basic256Sha256 SignAndEncrypt simulator and matching client settings."""
    server_dir = tmp_path / "server"
    server = make_self_signed(server_dir, "server", application_uri=APPLICATION_URI)
    client = make_self_signed(tmp_path / "client", "client", application_uri="urn:tracegate:gw")
    port = free_port()
    args = [
        "--rate", "1200", "--start",
        "--security", "Basic256Sha256_SignAndEncrypt",
        "--cert-dir", str(server_dir),
        "--user", "operator:s3cret",
    ]  # fmt: skip
    settings = settings_for(
        f"opc.tcp://127.0.0.1:{port}",
        policy=SecurityPolicy.BASIC256SHA256,
        mode=SecurityMode.SIGN_AND_ENCRYPT,
        identity=Identity.USERNAME,
        username="operator",
        password="s3cret",
        client_certificate=client.certificate,
        client_private_key=client.private_key,
        trusted_server_certificates=(server.certificate,),
        application_uri="urn:tracegate:gw",
    )
    return args, settings


async def wait_for_state(client: OpcUaClient, state: LinkState, timeout: float) -> float:
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while client.health().state is not state:
            await asyncio.sleep(0.02)
    return time.monotonic() - started


async def kill_and_restart(
    secured_peer: tuple[list[str], OpcUaSettings], outage_s: float
) -> dict[str, float]:
    args, settings = secured_peer
    peer = PlcProcess(int(settings.endpoint.rsplit(":", 1)[1]), args)
    await peer.start()
    try:
        async with OpcUaClient(settings) as client:
            await client.wait_up(5)
            security = client.security_in_use
            assert security is not None
            assert security.endswith("#Basic256Sha256/SignAndEncrypt")
            stream = client.subscribe([TRIGGER])
            try:
                await next_value(stream, lambda t, v: v.quality is Quality.GOOD and v.value)
                await peer.kill()
                down_after = await wait_for_state(client, LinkState.DOWN, 2.0)
                await next_value(stream, lambda t, v: v.quality is Quality.STALE, timeout=2)
                await asyncio.sleep(outage_s)
                await peer.start()
                restarted = time.monotonic()
                await wait_for_state(client, LinkState.UP, 5.0)
                await next_value(
                    stream, lambda t, v: v.quality is Quality.GOOD and v.value, timeout=5
                )
                back_after = time.monotonic() - restarted
                assert back_after < 5.0
                assert client.security_in_use == security
                print(f"down after {down_after:.2f} s, back after {back_after:.2f} s")
                return {"down_after_s": down_after, "back_after_s": back_after}
            finally:
                await stream.aclose()  # type: ignore[attr-defined]
    finally:
        await peer.stop()


async def test_frozen_peer_is_down_within_2s_and_back_after_it_thaws(
    secured_peer: tuple[list[str], OpcUaSettings],
) -> None:
    """SIGSTOP: no FIN, no RST, just silence; only the keepalive watchdog can tell."""
    args, settings = secured_peer
    async with (
        PlcProcess(int(settings.endpoint.rsplit(":", 1)[1]), args) as peer,
        OpcUaClient(settings) as client,
    ):
        await client.wait_up(5)
        peer.pause()
        assert await wait_for_state(client, LinkState.DOWN, 2.0) < 2.0
        peer.resume()
        assert await wait_for_state(client, LinkState.UP, 5.0) < 5.0
        assert (await client.read([STATE]))[STATE].quality is Quality.GOOD


async def test_sigkill_and_restart_after_2s_keeps_security_and_subscriptions(
    secured_peer: tuple[list[str], OpcUaSettings],
) -> None:
    timings = await kill_and_restart(secured_peer, 2.0)
    assert timings["down_after_s"] < 2.0
    assert timings["back_after_s"] < 5.0


@pytest.mark.slow
async def test_sigkill_and_restart_after_10s(
    secured_peer: tuple[list[str], OpcUaSettings],
) -> None:
    timings = await kill_and_restart(secured_peer, 10.0)
    assert timings["down_after_s"] < 2.0
    assert timings["back_after_s"] < 5.0
