"""Property tests: whatever bytes arrive, the parser neither crashes nor outgrows its buffer."""

from __future__ import annotations

import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import PixelFormat
from drivers.camera.protocol import (
    HEADER,
    HEADER_CRC,
    HEADER_SIZE,
    MAGIC,
    FrameEncoder,
    FrameParser,
    ImageFrame,
    Limits,
    ProtocolErrorEvent,
)

LIMITS = Limits(max_width=32, max_height=32, max_body=1024, max_text_body=256)


def feed_all(parser: FrameParser, chunks: list[bytes]) -> list[object]:
    events: list[object] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
        assert parser.buffered <= LIMITS.max_buffer
    return events


valid_frames = st.builds(
    lambda ref, side, fill: FrameEncoder(LIMITS).image(
        ref, side, side, PixelFormat.MONO8, bytes([fill]) * side * side
    ),
    st.text("ABCDEFGHJK0123456789-", min_size=1, max_size=20),
    st.integers(1, 32),
    st.integers(0, 255),
)


@given(st.lists(st.binary(max_size=3000), max_size=8))
@settings(max_examples=300, deadline=None)
def test_random_bytes_never_crash_or_overgrow(chunks: list[bytes]) -> None:
    parser = FrameParser(LIMITS)

    events = feed_all(parser, chunks)
    events.extend(parser.feed_eof())

    data = b"".join(chunks)
    if data and not data.startswith(MAGIC[: len(data)]):
        assert isinstance(events[0], ProtocolErrorEvent)
    if data:
        assert any(isinstance(e, ProtocolErrorEvent) for e in events)


@given(valid_frames, st.data())
@settings(max_examples=200, deadline=None)
def test_a_truncated_frame_yields_a_protocol_error(frame: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(1, len(frame) - 1))
    parser = FrameParser(LIMITS)

    events = feed_all(parser, [frame[:cut]])
    events.extend(parser.feed_eof())

    assert events
    assert all(isinstance(e, ProtocolErrorEvent) for e in events)
    assert parser.buffered == 0


@given(st.integers(LIMITS.max_body + 1, 2**32 - 1), st.binary(max_size=5000))
@settings(max_examples=200, deadline=None)
def test_an_oversized_announcement_is_refused_before_buffering(length: int, tail: bytes) -> None:
    header = HEADER.pack(MAGIC, 1, 1, 1, 0, 1, 0, 4, 4, length, 0, b"U1")
    parser = FrameParser(LIMITS)

    events = feed_all(parser, [header + HEADER_CRC.pack(zlib.crc32(header)), tail])

    assert isinstance(events[0], ProtocolErrorEvent)
    assert events[0].fatal
    assert parser.buffered == 0


@given(
    st.lists(valid_frames, min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=200)), max_size=4),
    st.lists(st.integers(1, 700), min_size=1, max_size=10),
)
@settings(max_examples=200, deadline=None)
def test_garbage_between_frames_loses_at_most_the_frames_it_touches(
    frames: list[bytes], insertions: list[tuple[int, bytes]], splits: list[int]
) -> None:
    stream = bytearray(b"".join(frames))
    for position, garbage in insertions:
        at = position % (len(stream) + 1)
        stream[at:at] = garbage
    chunks, offset = [], 0
    for size in splits * (len(stream) // sum(splits) + 1):
        chunks.append(bytes(stream[offset : offset + size]))
        offset += size
    parser = FrameParser(LIMITS)

    events = feed_all(parser, chunks)

    images = [e for e in events if isinstance(e, ImageFrame)]
    errors = [e for e in events if isinstance(e, ProtocolErrorEvent)]
    assert len(images) >= len(frames) - len(insertions) * 2 or any(e.fatal for e in errors)
    if not insertions:
        assert len(images) == len(frames)
        assert not errors
    else:
        assert errors or len(images) == len(frames)
    assert parser.buffered < HEADER_SIZE + LIMITS.max_body
