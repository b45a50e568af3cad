"""The dispatcher reads the next page while a full page is on its way: a refusal throws that
page away, so the refused message's batch waits behind it while other batches go on, and a
release is sent with the next page, before the rest of the backlog."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from drivers.backoff import Backoff
from ebr.journal import EventKind
from ebr.outbox import OutboxMessage
from gateway.uplink.dispatcher import Dispatcher, DispatcherSettings
from gateway.uplink.epcis_http import EpcisCaptureUplink
from tests.gateway.uplink.capture_receiver import CaptureReceiver
from tests.gateway.uplink.uplink_fixtures import fed_line, messages


@pytest.fixture
async def receiver() -> AsyncIterator[CaptureReceiver]:
    server = CaptureReceiver()
    await server.start()
    yield server
    await server.stop()


def event_ids(stream: list[OutboxMessage]) -> list[str]:
    return [json.loads(message.body)["eventID"] for message in stream]


async def test_a_refusal_throws_the_page_read_ahead_away_and_a_release_goes_out_next(
    engine: Engine, receiver: CaptureReceiver
) -> None:
    fed = fed_line(engine, units=20, cases=2)
    line = fed.line
    line.accept(*line.units[:8])
    for key in line.other_units[:4]:
        line.ok(line.event(EventKind.UNIT_ISSUED, key, batch=line.other_batch))
        line.ok(line.event(EventKind.UNIT_ACCEPTED, key, batch=line.other_batch))
    stream = messages(engine)
    mine = [m for m in stream if m.batch_id == line.batch]
    theirs = [m for m in stream if m.batch_id == line.other_batch]
    assert (len(mine), len(theirs)) == (8, 4)
    assert stream == mine + theirs
    receiver.refuse_event_ids.add(event_ids(mine)[2])
    dispatcher = Dispatcher(
        fed.outbox,
        EpcisCaptureUplink("hq", receiver.url, events_per_document=10, timeout_s=2, poll_s=0.01),
        settings=DispatcherSettings(page=1, idle_s=0.01, backoff=Backoff(initial=0.01, cap=0.02)),
    )

    for _ in range(5):
        assert await dispatcher.step()
    assert receiver.event_ids() == event_ids(mine[:2] + theirs[:2]), "its batch waits"
    assert [q.id for q in fed.outbox.quarantined("hq")] == [mine[2].id]

    receiver.refuse_event_ids.clear()
    assert await dispatcher.release(batch_id=line.batch) == 1
    assert await dispatcher.step()
    assert receiver.event_ids()[-1] == event_ids(mine)[2], "the released message went next"
    while await dispatcher.step():
        pass
    received = receiver.event_ids()
    assert [e for e in received if e in event_ids(mine)] == event_ids(mine)
    assert [e for e in received if e in event_ids(theirs)] == event_ids(theirs)
    assert receiver.duplicates == 0
    assert messages(engine) == []
    assert dispatcher.stats.delivered == 12
    assert {(s.rows, s.bytes) for s in fed.outbox.streams()} == {(0, 0)}
    await dispatcher.uplink.close()
