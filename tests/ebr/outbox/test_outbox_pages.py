"""The outbox as its dispatchers read it: a page read after a message continues the outbox
exactly where a read from its start would, a whole page is acknowledged at once and the streams
shrink by what was still there, whatever the order of writes, reads, acknowledgements,
quarantines and releases."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from ebr.outbox import Outbox, OutboxLimits, OutboxMessage, OutgoingEvent
from ebr.outbox.models import OutboxMessageRow

AT = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
DESTINATION = "hq"
SENDERS = ("plant-1/line-1", "plant-1/line-2")


def write(outbox: Outbox, sender: str, batch: int, count: int) -> None:
    with outbox.engine.begin() as conn:
        last = conn.execute(
            select(func.coalesce(func.max(OutboxMessageRow.journal_seq), 0))
        ).scalar_one()
        outbox.write(
            conn,
            sender,
            [DESTINATION, "site-db"],
            [
                OutgoingEvent(batch, last + n, AT, _body(sender, last + n))
                for n in range(1, count + 1)
            ],
        )


def _body(sender: str, seq: int) -> str:
    event = {"eventID": f"urn:uuid:{sender}-{seq}", "note": "Verpackung ✓" * (seq % 3)}
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def stored(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as conn:
        return [
            (row.destination, row.sender, len(row.body.encode("utf-8")))
            for row in conn.execute(select(OutboxMessageRow.__table__))
        ]


def stored_ids(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(select(OutboxMessageRow.id)).scalars())


def assert_streams_match_the_rows(outbox: Outbox) -> None:
    rows = stored(outbox.engine)
    for stream in outbox.streams():
        mine = [size for d, s, size in rows if (d, s) == (stream.destination, stream.sender)]
        assert (stream.rows, stream.bytes) == (len(mine), sum(mine)), stream
    level = outbox.level()
    assert (level.rows, level.bytes) == (len(rows), sum(size for _, _, size in rows))


def ids(messages: Sequence[OutboxMessage]) -> list[int]:
    return [message.id for message in messages]


def test_a_page_read_after_a_message_continues_where_a_read_from_the_start_would(
    engine: Engine,
) -> None:
    outbox = Outbox(engine)
    for round_ in range(3):
        for batch, sender in enumerate(SENDERS, start=1):
            write(outbox, sender, batch + 2 * (round_ % 2), 4)
    everything = outbox.pending(DESTINATION, limit=1000)
    assert len(everything) == 24
    assert ids(everything) == sorted(ids(everything))
    for blocked in ((), (3,), (1, 4)):
        allowed = [m for m in everything if m.batch_id not in blocked]
        assert outbox.pending(DESTINATION, limit=1000, blocked_batches=blocked) == allowed
        for cut, message in enumerate(allowed):
            ahead = outbox.pending(
                DESTINATION, limit=5, blocked_batches=blocked, after_id=message.id
            )
            assert ahead == allowed[cut + 1 : cut + 6]


def test_a_page_bigger_than_an_in_list_chunk_is_acknowledged_at_once(engine: Engine) -> None:
    outbox = Outbox(engine, limits=OutboxLimits(max_rows=10_000))
    write(outbox, SENDERS[0], 1, 700)
    write(outbox, SENDERS[1], 2, 500)
    page = outbox.pending(DESTINATION, limit=1100)
    assert outbox.ack(page) == 1100
    rest = outbox.pending(DESTINATION, limit=1000)
    assert len(rest) == 100
    assert min(ids(rest)) > page[-1].id
    assert_streams_match_the_rows(outbox)
    assert outbox.ack([*page[-3:], *rest[:2]]) == 2, "only what was still there counts"
    assert_streams_match_the_rows(outbox)
    assert len(outbox.pending("site-db", limit=2000)) == 1200, "other destinations keep theirs"
    assert outbox.ack([]) == 0


KINDS = ("write", "page", "ahead", "ack", "quarantine", "release")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    operations=st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, 6), st.integers(1, 6)),
        min_size=1,
        max_size=10,
    )
)
def test_reading_ahead_acknowledging_and_quarantining_keep_the_outbox_consistent(
    engine: Engine, operations: list[tuple[str, int, int]]
) -> None:
    outbox = Outbox(engine)
    page: list[OutboxMessage] = []
    for kind, a, b in operations:
        blocked = outbox.blocked_batches(DESTINATION)
        if kind == "write":
            write(outbox, SENDERS[a % 2], 1 + a % 3, b)
        elif kind in ("page", "ahead"):
            after = page[-1].id if kind == "ahead" and page else 0
            page = outbox.pending(DESTINATION, limit=b, blocked_batches=blocked, after_id=after)
            everything = outbox.pending(DESTINATION, limit=10**6, blocked_batches=blocked)
            assert page == [m for m in everything if m.id > after][:b]
        elif kind == "ack":
            present = stored_ids(outbox.engine)
            assert outbox.ack(page[:a]) == len(present & set(ids(page[:a])))
        elif kind == "quarantine" and page:
            message = page[a % len(page)]
            outbox.quarantine(message, "HTTP 422: refused")
            if message.id in ids(outbox.pending(DESTINATION, limit=10**6)):
                raise AssertionError(f"{message} quarantined but still pending")
        elif kind == "release":
            outbox.release(DESTINATION, batch_id=1 + a % 3)
        assert_streams_match_the_rows(outbox)
