"""A backlog drained to a real Mosquitto in full pages, read ahead and published through the
PUBACK window: every event reaches a subscriber once and in its stream's order, a message
leaves the outbox only after its PUBACK, and the counters match the outbox when the dispatcher
is stopped half-way. The documents MQTT sends are `wire.document`'s, byte for byte."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from ebr.outbox import Outbox, OutboxLimits, OutboxMessage, OutgoingEvent
from gateway.uplink.dispatcher import Dispatcher, DispatcherSettings
from gateway.uplink.mqtt import MqttUplink
from gateway.uplink.wire import document, single_documents
from tests.gateway.uplink.mqtt_brokers import Subscriber, shared_broker_or_skip, subscribed
from tests.gateway.uplink.uplink_fixtures import messages

AT = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
SENDERS = ("plant-1/line-1", "plant-1/line-2")
BACKLOG = 600


def write_backlog(engine: Engine) -> list[OutboxMessage]:
    """Two lines' events, interleaved in commits of 50."""
    outbox = Outbox(engine, limits=OutboxLimits(max_rows=BACKLOG + 1))
    for commit in range(BACKLOG // 50):
        sender = SENDERS[commit % 2]
        events = [
            OutgoingEvent(1 + commit % 2, commit * 50 + n, AT, _body(sender, commit * 50 + n))
            for n in range(50)
        ]
        with engine.begin() as conn:
            outbox.write(conn, sender, ["broker"], events)
    return messages(engine)


def _body(sender: str, n: int) -> str:
    event = {"type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "n": n, "by": sender}
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def event_ids(stream: list[OutboxMessage], sender: str) -> list[str]:
    return [json.loads(m.body)["eventID"] for m in stream if m.sender == sender]


def dispatcher_for(engine: Engine, host: str, port: int, prefix: str) -> Dispatcher:
    """A client id of its own: the shared broker drops a client when another connects with the
    same id, and the SQLite and PostgreSQL runs of a test may be connected at once."""
    uplink = MqttUplink(
        "broker",
        host,
        port,
        site_id="plant-1",
        topic_prefix=prefix,
        inflight=16,
        client_id=f"tracegate-{prefix}",
    )
    return Dispatcher(Outbox(engine), uplink, settings=DispatcherSettings(page=100, idle_s=0.02))


async def test_a_backlog_reaches_the_subscriber_once_and_in_order(engine: Engine) -> None:
    host, port = shared_broker_or_skip()
    backlog = write_backlog(engine)
    prefix = f"tg-{uuid.uuid4().hex[:8]}"
    dispatcher = dispatcher_for(engine, host, port, prefix)
    subscriber = Subscriber(host, port, (f"{prefix}/+/+/epcis",), f"receiver-{prefix}")
    async with subscribed(subscriber):
        task = asyncio.create_task(dispatcher.run())
        try:
            async with asyncio.timeout(60):
                while messages(engine) or len(subscriber.events) < BACKLOG:
                    await asyncio.sleep(0.05)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    for sender in SENDERS:
        received = [e.event_id for e in subscriber.events if e.header["sender"] == sender]
        assert received == event_ids(backlog, sender)
    assert subscriber.duplicates == 0
    assert dispatcher.stats.delivered == BACKLOG
    assert dispatcher.stats.resent_pages == 0
    assert {(s.rows, s.bytes) for s in dispatcher.outbox.streams()} == {(0, 0)}


async def test_stopped_half_way_only_messages_the_broker_acknowledged_are_gone(
    engine: Engine,
) -> None:
    host, port = shared_broker_or_skip()
    backlog = write_backlog(engine)
    prefix = f"tg-{uuid.uuid4().hex[:8]}"
    dispatcher = dispatcher_for(engine, host, port, prefix)
    subscriber = Subscriber(host, port, (f"{prefix}/+/+/epcis",), f"receiver-{prefix}")
    async with subscribed(subscriber):
        task = asyncio.create_task(dispatcher.run())
        async with asyncio.timeout(60):
            while dispatcher.stats.delivered < BACKLOG // 3:
                await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        left = messages(engine)
        gone = [m for m in backlog if m not in left]
        assert dispatcher.stats.delivered == len(gone) >= BACKLOG // 3
        assert left == backlog[len(gone) :], "what is left is the backlog's end, in order"
        expected = {json.loads(m.body)["eventID"] for m in gone}
        async with asyncio.timeout(20):
            while not expected <= subscriber.seen:
                await asyncio.sleep(0.02)
    level = dispatcher.outbox.level()
    assert (level.rows, level.bytes) == (len(left), sum(len(m.body.encode()) for m in left))


@given(
    senders=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3),
    texts=st.lists(st.text(max_size=20), min_size=1, max_size=6),
)
def test_mqtt_documents_are_wire_documents_byte_for_byte(
    senders: list[str], texts: list[str]
) -> None:
    stream = [
        OutboxMessage(
            id=n + 1,
            destination='broker"é',
            sender=senders[n % len(senders)],
            seq=n + 1,
            batch_id=7,
            journal_seq=n + 10,
            created_at=AT + timedelta(microseconds=n * 1001),
            prev_hash="0" * 64,
            hash=f"{n:064x}",
            body=json.dumps({"eventID": f"e{n}", "text": text}, ensure_ascii=False),
        )
        for n, text in enumerate(texts)
    ]
    created = AT + timedelta(hours=3, milliseconds=5)
    assert list(single_documents(stream, created)) == [document([m], created) for m in stream]
