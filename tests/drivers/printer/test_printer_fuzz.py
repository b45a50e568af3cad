"""Whatever bytes arrive, the TGP parsers never raise, never buffer past their bound, and say so."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.printer.framing import MAX_FRAME
from drivers.printer.protocol import (
    PrinterClientConnection,
    PrinterServerConnection,
    ProtocolErrorEvent,
    RequestRefused,
)

VALID_REPLY = PrinterServerConnection.ok(1, "TGP/1", "sim", "1024", "64")
VALID_PRINTED = PrinterServerConnection.printed("U1")


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def feed_client(data: bytes, cuts: list[int]) -> list[object]:
    client = PrinterClientConnection()
    client.send_hello()
    events: list[object] = []
    for piece in chunks(data, cuts):
        events += client.receive_data(piece)
        assert client.buffered <= MAX_FRAME
    events += client.receive_eof()
    assert client.buffered == 0
    return events


def feed_server(data: bytes, cuts: list[int]) -> list[object]:
    server = PrinterServerConnection()
    events: list[object] = []
    for piece in chunks(data, cuts):
        events += server.receive_data(piece)
        assert server.buffered <= MAX_FRAME
    events += server.receive_eof()
    return events


def is_error(event: object) -> bool:
    return isinstance(event, ProtocolErrorEvent | RequestRefused)


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=3000), st.lists(st.integers(0, 3000), max_size=8))
def test_random_bytes_yield_protocol_errors(data: bytes, cuts: list[int]) -> None:
    assert any(is_error(e) for e in feed_client(data, cuts))
    assert any(is_error(e) for e in feed_server(data, cuts))


@settings(max_examples=200)
@given(st.integers(1, len(VALID_REPLY) - 1), st.lists(st.integers(0, 100), max_size=4))
def test_a_truncated_frame_is_reported_at_end_of_stream(keep: int, cuts: list[int]) -> None:
    events = feed_client(VALID_REPLY[:keep], cuts)
    assert events
    assert all(isinstance(e, ProtocolErrorEvent) for e in events)


@settings(max_examples=50)
@given(st.integers(MAX_FRAME + 1, 5 * MAX_FRAME), st.binary(min_size=1, max_size=1))
def test_an_oversized_frame_is_reported_once_and_skipped(size: int, filler: bytes) -> None:
    junk = (filler * size).replace(b"\n", b"x")
    client = PrinterClientConnection()
    client.send_hello()
    events = client.receive_data(junk[: size // 2])
    events += client.receive_data(junk[size // 2 :] + b"\r\n" + VALID_REPLY)
    assert client.buffered <= MAX_FRAME
    errors = [e for e in events if isinstance(e, ProtocolErrorEvent)]
    assert len(errors) == 1
    assert "longer than" in errors[0].message
    assert events[-1].__class__.__name__ == "HelloAccepted"


@settings(max_examples=200)
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_garbage_around_a_valid_frame_never_escapes(before: bytes, after: bytes) -> None:
    events = feed_client(before + b"\n" + VALID_REPLY + after + b"\n" + VALID_PRINTED, [])
    assert all(not isinstance(e, Exception) for e in events)
