"""The camera frame stream parser and encoder: every frame type, every documented violation."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from drivers.base import PixelFormat, UsageError
from drivers.camera.protocol import (
    HEADER,
    HEADER_CRC,
    HEADER_SIZE,
    MAGIC,
    DeviceErrorFrame,
    FrameEncoder,
    FrameEncodingError,
    FrameParser,
    Heartbeat,
    ImageFrame,
    Limits,
    ParserState,
    ProtocolErrorEvent,
    ProtocolErrorKind,
    SmartResultFrame,
)

TAKEN = datetime(2026, 11, 22, 8, 30, 15, 123456, tzinfo=UTC)


def raw_frame(
    *,
    version: int = 1,
    mtype: int = 1,
    fmt: int = 1,
    width: int = 2,
    height: int = 2,
    body: bytes = b"\x00\x01\x02\x03",
    unit_ref: bytes = b"U1",
    body_crc: int | None = None,
    length: int | None = None,
) -> bytes:
    """A frame built by hand, to say things the encoder refuses to say."""
    header = HEADER.pack(
        MAGIC, version, mtype, fmt, 0, 7, 0, width, height,
        len(body) if length is None else length,
        zlib.crc32(body) if body_crc is None else body_crc, unit_ref,
    )  # fmt: skip
    return header + HEADER_CRC.pack(zlib.crc32(header)) + body


def only_error(events: list[object]) -> ProtocolErrorEvent:
    errors = [e for e in events if isinstance(e, ProtocolErrorEvent)]
    assert len(errors) == 1, events
    return errors[0]


def test_every_message_type_round_trips() -> None:
    encoder = FrameEncoder()
    pixels = bytes(range(12))
    stream = b"".join(
        [
            encoder.image("L1-000042", 4, 3, PixelFormat.MONO8, pixels, taken_at=TAKEN),
            encoder.smart_result("L1-000043", "0109501101530003\x1d21ABC", "]d2", "B"),
            encoder.heartbeat(taken_at=TAKEN),
            encoder.error("LIGHT", "illumination failed", unit_ref="L1-000044"),
        ]
    )

    events = FrameParser().feed(stream)

    assert events == [
        ImageFrame("L1-000042", 1, TAKEN, 4, 3, PixelFormat.MONO8, pixels),
        SmartResultFrame("L1-000043", 2, None, "0109501101530003\x1d21ABC", "]d2", "B"),
        Heartbeat(3, TAKEN),
        DeviceErrorFrame("L1-000044", 4, "LIGHT", "illumination failed"),
    ]


def test_png_bodies_carry_their_size() -> None:
    ok, png = cv2.imencode(".png", np.full((5, 7), 128, np.uint8))
    assert ok
    frame = FrameEncoder().image("U9", 7, 5, PixelFormat.PNG, png.tobytes())

    (event,) = FrameParser().feed(frame)

    assert isinstance(event, ImageFrame)
    assert (event.width, event.height, event.pixel_format) == (7, 5, PixelFormat.PNG)
    assert event.data == png.tobytes()


def test_frames_split_at_every_byte_are_reassembled() -> None:
    encoder = FrameEncoder()
    stream = encoder.image("U1", 3, 3, PixelFormat.MONO8, bytes(9)) + encoder.heartbeat()
    parser = FrameParser()

    events = [event for byte in stream for event in parser.feed(bytes([byte]))]

    assert [type(e) for e in events] == [ImageFrame, Heartbeat]
    assert parser.buffered == 0


def test_garbage_before_a_frame_is_reported_then_skipped() -> None:
    frame = FrameEncoder().image("U1", 2, 2, PixelFormat.MONO8, bytes(4))
    parser = FrameParser()

    events = parser.feed(b"\x00noise TG" + frame)

    error = only_error(events)
    assert error.kind is ProtocolErrorKind.BAD_MAGIC
    assert not error.fatal
    assert error.discarded == len(b"\x00noise TG")
    assert isinstance(events[-1], ImageFrame)


def test_a_damaged_header_is_skipped_and_the_next_frame_found() -> None:
    encoder = FrameEncoder()
    damaged = bytearray(encoder.image("U1", 2, 2, PixelFormat.MONO8, bytes(4)))
    damaged[20] ^= 0xFF
    good = encoder.image("U2", 2, 2, PixelFormat.MONO8, bytes(4))

    events = FrameParser().feed(bytes(damaged) + good)

    assert only_error(events).kind is ProtocolErrorKind.HEADER_CRC
    assert isinstance(events[-1], ImageFrame)
    assert events[-1].unit_ref == "U2"


def test_a_damaged_body_drops_only_its_frame() -> None:
    encoder = FrameEncoder()
    damaged = bytearray(encoder.image("U1", 2, 2, PixelFormat.MONO8, bytes(4)))
    damaged[-1] ^= 0x01
    good = encoder.heartbeat()

    events = FrameParser().feed(bytes(damaged) + good)

    error = only_error(events)
    assert error.kind is ProtocolErrorKind.BODY_CRC
    assert error.discarded == HEADER_SIZE + 4
    assert isinstance(events[-1], Heartbeat)


def test_a_frame_cut_short_and_followed_by_another_is_reported_and_resynchronised() -> None:
    encoder = FrameEncoder()
    cut = encoder.image("U1", 40, 40, PixelFormat.MONO8, bytes(1600))[:900]
    rest = [encoder.image(f"U{n}", 40, 40, PixelFormat.MONO8, bytes(1600)) for n in (2, 3)]

    events = FrameParser().feed(cut + b"".join(rest))

    assert any(isinstance(e, ProtocolErrorEvent) and not e.fatal for e in events)
    assert [e.unit_ref for e in events if isinstance(e, ImageFrame)] == ["U3"]


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (raw_frame(version=2), ProtocolErrorKind.UNSUPPORTED_VERSION),
        (raw_frame(width=5000, body=b"", length=0), ProtocolErrorKind.OVER_LIMIT),
        (raw_frame(body=b"", length=0xFFFFFFFF), ProtocolErrorKind.OVER_LIMIT),
        (raw_frame(mtype=2, body=b"", length=70_000), ProtocolErrorKind.OVER_LIMIT),
    ],
    ids=["version", "width", "absurd-body", "big-smart-result"],
)
def test_fatal_violations_close_the_parser(frame: bytes, kind: ProtocolErrorKind) -> None:
    parser = FrameParser()

    events = parser.feed(frame + FrameEncoder().heartbeat())

    error = only_error(events)
    assert (error.kind, error.fatal) == (kind, True)
    assert events == [error]
    assert parser.state is ParserState.CLOSED
    assert parser.buffered == 0
    assert parser.feed(FrameEncoder().heartbeat()) == []


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (raw_frame(mtype=9), ProtocolErrorKind.UNKNOWN_TYPE),
        (raw_frame(fmt=7), ProtocolErrorKind.BAD_FIELDS),
        (raw_frame(unit_ref=b""), ProtocolErrorKind.BAD_FIELDS),
        (raw_frame(unit_ref=b"\xff\xfe"), ProtocolErrorKind.BAD_FIELDS),
        (raw_frame(width=3), ProtocolErrorKind.BAD_BODY),
        (raw_frame(fmt=2), ProtocolErrorKind.BAD_BODY),
        (raw_frame(mtype=2, fmt=0, body=b"{not json"), ProtocolErrorKind.BAD_BODY),
        (raw_frame(mtype=2, fmt=0, body=b'{"text": 5}'), ProtocolErrorKind.BAD_BODY),
        (raw_frame(mtype=3, fmt=0, body=b"x", unit_ref=b""), ProtocolErrorKind.BAD_FIELDS),
    ],
    ids=[
        "type", "format", "no-unit", "unit-not-utf8", "mono8-size", "png-not-png",
        "json", "json-field", "heartbeat-body",
    ],
)  # fmt: skip
def test_inconsistent_frames_are_dropped_and_the_stream_goes_on(
    frame: bytes, kind: ProtocolErrorKind
) -> None:
    parser = FrameParser()

    events = parser.feed(frame + FrameEncoder().heartbeat())

    error = only_error(events)
    assert (error.kind, error.fatal) == (kind, False)
    assert isinstance(events[-1], Heartbeat)


def test_end_of_stream_inside_a_frame_is_a_truncation() -> None:
    parser = FrameParser()
    frame = FrameEncoder().image("U1", 10, 10, PixelFormat.MONO8, bytes(100))

    assert parser.feed(frame[:-1]) == []
    (error,) = parser.feed_eof()

    assert isinstance(error, ProtocolErrorEvent)
    assert (error.kind, error.fatal) == (ProtocolErrorKind.TRUNCATED, True)
    assert FrameParser().feed_eof() == []


def test_end_of_stream_right_after_a_header_is_a_truncation() -> None:
    parser = FrameParser()
    frame = FrameEncoder().image("U1", 1, 1, PixelFormat.MONO8, b"\x00")

    assert parser.feed(frame[:HEADER_SIZE]) == []
    assert parser.buffered == 0
    (error,) = parser.feed_eof()

    assert isinstance(error, ProtocolErrorEvent)
    assert error.kind is ProtocolErrorKind.TRUNCATED


def test_a_chunk_larger_than_the_bound_is_parsed_without_exceeding_it() -> None:
    limits = Limits(max_width=64, max_height=64, max_body=4096, max_text_body=1024)
    encoder = FrameEncoder(limits)
    frames = [encoder.image(f"U{n}", 64, 64, PixelFormat.MONO8, bytes(4096)) for n in range(20)]
    parser = FrameParser(limits)

    events = parser.feed(b"".join(frames))

    assert len(events) == 20
    assert parser.buffered == 0
    assert limits.max_buffer == HEADER_SIZE + 4096


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.image("", 2, 2, PixelFormat.MONO8, bytes(4)), "unit reference"),
        (lambda e: e.image("U", 0, 2, PixelFormat.MONO8, b""), "outside"),
        (lambda e: e.image("U", 5000, 2, PixelFormat.MONO8, bytes(10_000)), "outside"),
        (lambda e: e.image("U", 2, 2, PixelFormat.MONO8, bytes(3)), "needs 4 bytes"),
        (lambda e: e.image("U", 2, 2, PixelFormat.PNG, bytes(4)), "not a PNG"),
        (lambda e: e.image("U" * 33, 2, 2, PixelFormat.MONO8, bytes(4)), "longer than 32"),
        (lambda e: e.smart_result("U", "x" * 70_000), "exceeds"),
    ],
    ids=["no-unit", "zero", "too-wide", "mono8-size", "png", "long-unit", "big-result"],
)
def test_the_encoder_refuses_what_the_protocol_cannot_carry(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FrameEncodingError, match=message) as caught:
        call(FrameEncoder())
    assert caught.value.hint


def test_the_header_is_68_bytes_big_endian() -> None:
    frame = FrameEncoder().heartbeat(taken_at=TAKEN)

    assert len(frame) == HEADER_SIZE == 68
    assert frame[:4] == b"TGCF"
    (sequence,) = struct.unpack_from(">I", frame, 8)
    assert sequence == 1
    (micros,) = struct.unpack_from(">Q", frame, 12)
    assert micros == int(TAKEN.timestamp()) * 1_000_000 + 123456


def test_limits_must_fit_the_header() -> None:
    with pytest.raises(UsageError, match="max_width=0") as caught:
        Limits(max_width=0)
    assert caught.value.hint
    with pytest.raises(UsageError, match="max_body"):
        Limits(max_body=2**32)
