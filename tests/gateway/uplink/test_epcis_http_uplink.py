"""The EPCIS capture uplink against a real HTTP receiver on loopback: an outage while a batch
runs loses nothing and duplicates nothing at the receiver, refused events are quarantined and
released, and what travels is a valid EPCIS 2.0 document."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from drivers.backoff import Backoff
from ebr.journal import EventKind
from ebr.outbox import OutboxMessage
from gateway.epcis.validate import jsonld_problems
from gateway.uplink.dispatcher import Dispatcher, DispatcherSettings
from gateway.uplink.epcis_http import EpcisCaptureUplink
from gateway.uplink.wire import checked_messages, document
from tests.gateway.uplink.capture_receiver import CaptureReceiver, Mode
from tests.gateway.uplink.test_outbox_feed import exported_bodies
from tests.gateway.uplink.uplink_fixtures import FedLine, event_ids, fed_line, messages


@pytest.fixture
async def receiver() -> AsyncIterator[CaptureReceiver]:
    server = CaptureReceiver()
    await server.start()
    yield server
    await server.stop()


def dispatcher_for(fed: FedLine, receiver: CaptureReceiver, **kwargs: object) -> Dispatcher:
    uplink = EpcisCaptureUplink(
        "hq", receiver.url, events_per_document=10, timeout_s=2, poll_s=0.01
    )
    return Dispatcher(
        fed.outbox,
        uplink,
        settings=DispatcherSettings(page=25, idle_s=0.02, backoff=Backoff(initial=0.02, cap=0.2)),
        **kwargs,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(dispatcher.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def produce(fed: FedLine, units: list[str], cases: list[str]) -> None:
    """Accepts in commits of five units, a case packed every ten, as a line would."""
    line = fed.line
    for start in range(0, len(units), 5):
        group = units[start : start + 5]
        await asyncio.to_thread(line.accept, *group)
        if (start + 5) % 10 == 0:
            children = units[start - 5 : start + 5]
            case = cases[start // 10]
            await asyncio.to_thread(
                line.ok, line.event(EventKind.AGGREGATED, case, children=children, level="case")
            )
        await asyncio.sleep(0.005)


async def drained(fed: FedLine, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while messages(fed.engine):
            await asyncio.sleep(0.02)


async def test_an_outage_while_the_batch_runs_loses_and_duplicates_nothing(
    engine: Engine, receiver: CaptureReceiver
) -> None:
    fed = fed_line(engine, units=120, cases=12)
    units, cases = fed.line.units, fed.line.cases
    dispatcher = dispatcher_for(fed, receiver)
    async with running(dispatcher):
        await produce(fed, units[:30], cases[:3])
        receiver.mode = Mode.OUTAGE
        await produce(fed, units[30:90], cases[3:9])
        async with asyncio.timeout(10):
            while receiver.failures < 3:
                await asyncio.sleep(0.02)
        receiver.mode = Mode.OK
        await produce(fed, units[90:], cases[9:])
        await drained(fed)
    expected = event_ids(exported_bodies(fed))
    assert len(expected) == 120 + 12 + 12
    assert receiver.event_ids() == expected, "every event once, in the batch's order"
    assert dispatcher.stats.resent_pages >= 1
    assert dispatcher.stats.delivered >= len(expected)
    assert dispatcher.health().state.value == "up"


async def test_a_refused_event_is_quarantined_and_released_after_the_fix(
    engine: Engine, receiver: CaptureReceiver
) -> None:
    fed = fed_line(engine, units=20, cases=2)
    line = fed.line
    line.accept(*line.units[:6])
    for key in line.other_units[:3]:
        line.ok(line.event(EventKind.UNIT_ISSUED, key, batch=line.other_batch))
        line.ok(line.event(EventKind.UNIT_ACCEPTED, key, batch=line.other_batch))
    bad = messages(engine)[2]
    receiver.refuse_event_ids.add(json.loads(bad.body)["eventID"])
    alarms: list[tuple[OutboxMessage, str]] = []
    dispatcher = dispatcher_for(fed, receiver, on_quarantine=lambda m, r: alarms.append((m, r)))

    while await dispatcher.step():
        pass
    assert [m.id for m, _ in alarms] == [bad.id]
    assert "HTTP 422" in alarms[0][1]
    (quarantined,) = fed.outbox.quarantined("hq")
    assert quarantined.id == bad.id
    assert "HTTP 422" in quarantined.error
    held = [m for m in messages(engine) if m.id != bad.id]
    assert [m.batch_id for m in held] == [line.batch] * 3, "its batch waits behind it"
    other = event_ids(exported_bodies(fed, line.other_batch))
    assert [e for e in receiver.event_ids() if e in other] == other, "other batches go on"

    receiver.refuse_event_ids.clear()
    assert await dispatcher.release() == 1
    while await dispatcher.step():
        pass
    assert messages(engine) == []
    mine = event_ids(exported_bodies(fed))
    assert [e for e in receiver.event_ids() if e in mine] == mine
    await dispatcher.uplink.close()


async def test_the_wire_document_is_valid_epcis_and_checks_its_hashes(engine: Engine) -> None:
    fed = fed_line(engine, units=12, cases=2)
    line = fed.line
    line.accept(*line.units[:10])
    line.ok(line.event(EventKind.AGGREGATED, line.cases[0], children=line.units[:10], level="case"))
    stream = messages(engine)
    data = document(stream, stream[0].created_at)
    parsed = json.loads(data)
    assert jsonld_problems(parsed) == []
    assert [m.body for m in checked_messages(data)] == [m.body for m in stream]
    assert parsed["sender"] == "plant-1/line-1"
    assert [h["sequence"] for h in parsed["tgo:messages"]] == list(range(1, 13))
    tampered = data.replace(b'"cbvmda:lotNumber":"AB-123"', b'"cbvmda:lotNumber":"AB-124"', 1)
    with pytest.raises(ValueError, match="does not match its content"):
        checked_messages(tampered)


async def test_a_receiver_that_is_down_leaves_the_uplink_down_and_the_outbox_whole(
    engine: Engine,
) -> None:
    fed = fed_line(engine, units=4, cases=1)
    fed.line.accept(*fed.line.units[:3])
    uplink = EpcisCaptureUplink("hq", "http://127.0.0.1:9", timeout_s=0.5)
    dispatcher = Dispatcher(
        fed.outbox,
        uplink,
        settings=DispatcherSettings(backoff=Backoff(initial=0.01, cap=0.02)),
    )
    assert not await dispatcher.step()
    health = dispatcher.health()
    assert health.state.value == "down"
    assert "POST capture: ConnectError" in (health.last_error or "")
    assert len(messages(engine)) == 3
