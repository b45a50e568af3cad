"""The camera frame stream (docs/protocols/camera.md), sans-IO: bytes in, events out.

`FrameParser` is the receiving side (the driver); `FrameEncoder` the sending side (the camera
simulator). Neither does any I/O. The parser never raises on what the peer sends: every
violation becomes a `ProtocolErrorEvent`, and its buffer never holds more than
`Limits.max_buffer` bytes whatever it is fed.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, IntEnum, StrEnum, auto

from drivers.base import PixelFormat, UsageError

MAGIC = b"TGCF"
VERSION = 1
HEADER = struct.Struct(">4sBBBBIQHHII32s")
HEADER_CRC = struct.Struct(">I")
HEADER_SIZE = HEADER.size + HEADER_CRC.size
UNIT_REF_SIZE = 32
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEARTBEAT_INTERVAL_S = 0.5
"""A sender sends a heartbeat whenever it has sent nothing for this long."""
SILENCE_TIMEOUT_S = 1.5
"""A receiver that has parsed no valid frame for this long treats the link as lost."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MessageType(IntEnum):
    IMAGE = 1
    SMART_RESULT = 2
    HEARTBEAT = 3
    ERROR = 4


_WIRE_FORMATS = {0: None, 1: PixelFormat.MONO8, 2: PixelFormat.PNG}
_FORMAT_CODES = {fmt: code for code, fmt in _WIRE_FORMATS.items()}


@dataclass(frozen=True, slots=True)
class Limits:
    """What a receiver accepts; a frame announcing more is refused before any of it is buffered."""

    max_width: int = 4096
    max_height: int = 4096
    max_body: int = 16 * 1024 * 1024
    max_text_body: int = 64 * 1024
    """Bodies of smart results and errors (UTF-8 JSON)."""

    def __post_init__(self) -> None:
        for name in ("max_width", "max_height", "max_body", "max_text_body"):
            value = getattr(self, name)
            if not 0 < value <= (0xFFFF if name in ("max_width", "max_height") else 0xFFFFFFFF):
                raise UsageError(
                    f"camera limit {name}={value} is outside what the header can carry",
                    hint="width and height 1..65535, body sizes 1..4294967295 bytes",
                )

    @property
    def text_cap(self) -> int:
        return min(self.max_text_body, self.max_body)

    @property
    def max_buffer(self) -> int:
        return HEADER_SIZE + self.max_body


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageFrame:
    unit_ref: str
    sequence: int
    taken_at: datetime | None
    width: int
    height: int
    pixel_format: PixelFormat
    data: bytes


@dataclass(frozen=True, slots=True)
class SmartResultFrame:
    unit_ref: str
    sequence: int
    taken_at: datetime | None
    text: str | None
    symbology: str | None
    grade: str | None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    sequence: int
    taken_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeviceErrorFrame:
    """The camera reports a fault of its own (it is not a protocol violation)."""

    unit_ref: str
    sequence: int
    code: str
    message: str


class ProtocolErrorKind(StrEnum):
    BAD_MAGIC = "bad_magic"
    HEADER_CRC = "header_crc"
    UNSUPPORTED_VERSION = "unsupported_version"
    OVER_LIMIT = "over_limit"
    UNKNOWN_TYPE = "unknown_type"
    BAD_FIELDS = "bad_fields"
    BODY_CRC = "body_crc"
    BAD_BODY = "bad_body"
    TRUNCATED = "truncated"


@dataclass(frozen=True, slots=True)
class ProtocolErrorEvent:
    """The peer broke the protocol. `fatal`: the stream cannot be trusted, close the connection."""

    kind: ProtocolErrorKind
    detail: str
    discarded: int
    fatal: bool


Event = ImageFrame | SmartResultFrame | Heartbeat | DeviceErrorFrame | ProtocolErrorEvent


# --- parser ------------------------------------------------------------------------------------


class ParserState(StrEnum):
    HEADER = "header"
    BODY = "body"
    CLOSED = "closed"


_TRANSITIONS: dict[ParserState, frozenset[ParserState]] = {
    ParserState.HEADER: frozenset({ParserState.HEADER, ParserState.BODY, ParserState.CLOSED}),
    ParserState.BODY: frozenset({ParserState.HEADER, ParserState.CLOSED}),
    ParserState.CLOSED: frozenset(),
}


class LocalProtocolError(Exception):
    """We used the parser wrongly (a bug on our side, never the peer's doing)."""


@dataclass(frozen=True, slots=True)
class _Header:
    message_type: int
    pixel_format: int
    sequence: int
    taken_at_us: int
    width: int
    height: int
    body_length: int
    body_crc: int
    unit_ref: bytes


class FrameParser:
    """Receiving side of one connection. Feed it bytes as they come; it returns events.

    Recoverable violations (garbage, a damaged header or body, inconsistent fields) drop what is
    bad and resynchronise on the next magic; fatal ones (a version we do not speak, a size over
    the limits, a stream ending inside a frame) close the parser: it ignores all further input
    and the connection should be closed.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._buffer = bytearray()
        self._state = ParserState.HEADER
        self._header: _Header | None = None

    @property
    def state(self) -> ParserState:
        return self._state

    @property
    def closed(self) -> bool:
        return self._state is ParserState.CLOSED

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        events: list[Event] = []
        view = memoryview(data)
        offset = 0
        while offset < len(view) and not self.closed:
            room = self.limits.max_buffer - len(self._buffer)
            if room <= 0:
                raise LocalProtocolError("parser made no progress with a full buffer")
            self._buffer += view[offset : offset + room]
            offset += room
            events.extend(self._drain())
        return events

    def feed_eof(self) -> list[Event]:
        """The peer closed the stream; anything still buffered is a truncated frame."""
        if self._state is ParserState.CLOSED:
            return []
        in_frame = self._state is ParserState.BODY
        pending = len(self._buffer) + (HEADER_SIZE if in_frame else 0)
        self._move(ParserState.CLOSED)
        self._buffer.clear()
        if pending == 0:
            return []
        return [
            ProtocolErrorEvent(
                ProtocolErrorKind.TRUNCATED,
                f"stream ended {pending} bytes into an unfinished frame",
                pending,
                fatal=True,
            )
        ]

    def _move(self, to: ParserState) -> None:
        if to not in _TRANSITIONS[self._state]:
            raise LocalProtocolError(f"illegal parser transition {self._state} -> {to}")
        self._state = to

    def _drain(self) -> Iterator[Event]:
        while self._state is not ParserState.CLOSED:
            step = self._take_header() if self._state is ParserState.HEADER else self._take_body()
            if step is _Step.NEED_MORE:
                return
            if step is not _Step.PROGRESS:
                yield step

    def _error(
        self, kind: ProtocolErrorKind, detail: str, discarded: int, *, fatal: bool = False
    ) -> ProtocolErrorEvent:
        if fatal:
            self._move(ParserState.CLOSED)
            discarded += len(self._buffer)
            self._buffer.clear()
        return ProtocolErrorEvent(kind, detail, discarded, fatal)

    def _resync(self, kind: ProtocolErrorKind, detail: str, skip: int) -> ProtocolErrorEvent:
        """Drop at least `skip` bytes, then everything before the next possible magic."""
        found = self._buffer.find(MAGIC, skip)
        if found < 0:
            keep = _partial_magic_suffix(self._buffer)
            found = len(self._buffer) - keep
        del self._buffer[:found]
        return self._error(kind, detail, found)

    def _take_header(self) -> ProtocolErrorEvent | _Step:
        buffer = self._buffer
        if len(buffer) < len(MAGIC):
            if buffer and not MAGIC.startswith(bytes(buffer)):
                return self._resync(ProtocolErrorKind.BAD_MAGIC, "bytes before any frame", 1)
            return _Step.NEED_MORE
        if buffer[:4] != MAGIC:
            return self._resync(ProtocolErrorKind.BAD_MAGIC, "expected the magic TGCF", 1)
        if len(buffer) < HEADER_SIZE:
            return _Step.NEED_MORE
        (crc,) = HEADER_CRC.unpack_from(buffer, HEADER.size)
        if zlib.crc32(memoryview(buffer)[: HEADER.size]) != crc:
            return self._resync(ProtocolErrorKind.HEADER_CRC, "header checksum mismatch", 1)
        _, version, mtype, fmt, _, seq, taken, width, height, length, body_crc, ref = (
            HEADER.unpack_from(buffer)
        )
        if version != VERSION:
            return self._error(
                ProtocolErrorKind.UNSUPPORTED_VERSION,
                f"protocol version {version}, this receiver speaks {VERSION}",
                HEADER_SIZE,
                fatal=True,
            )
        over = self._over_limit(mtype, width, height, length)
        if over:
            return self._error(ProtocolErrorKind.OVER_LIMIT, over, HEADER_SIZE, fatal=True)
        self._header = _Header(mtype, fmt, seq, taken, width, height, length, body_crc, ref)
        del buffer[:HEADER_SIZE]
        self._move(ParserState.BODY)
        return _Step.PROGRESS

    def _over_limit(self, mtype: int, width: int, height: int, length: int) -> str | None:
        limits = self.limits
        if width > limits.max_width or height > limits.max_height:
            return f"{width}x{height} exceeds {limits.max_width}x{limits.max_height}"
        cap = limits.max_body if mtype == MessageType.IMAGE else limits.text_cap
        if length > cap:
            return f"body of {length} bytes exceeds {cap}"
        return None

    def _take_body(self) -> Event | _Step:
        header = self._header
        assert header is not None
        if len(self._buffer) < header.body_length:
            return _Step.NEED_MORE
        with memoryview(self._buffer) as view:
            body = bytes(view[: header.body_length])
        del self._buffer[: header.body_length]
        self._header = None
        self._move(ParserState.HEADER)
        discarded = HEADER_SIZE + len(body)
        if zlib.crc32(body) != header.body_crc:
            return self._error(ProtocolErrorKind.BODY_CRC, "body checksum mismatch", discarded)
        try:
            return _event_from(header, body)
        except _BadFrameError as bad:
            return self._error(bad.kind, str(bad), discarded)


class _Step(Enum):
    NEED_MORE = auto()
    PROGRESS = auto()


class _BadFrameError(Exception):
    def __init__(self, kind: ProtocolErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def _partial_magic_suffix(buffer: bytearray) -> int:
    for keep in range(min(len(MAGIC) - 1, len(buffer)), 0, -1):
        if buffer.endswith(MAGIC[:keep]):
            return keep
    return 0


def _event_from(header: _Header, body: bytes) -> Event:
    try:
        unit_ref = header.unit_ref.rstrip(b"\0").decode("utf-8")
    except UnicodeDecodeError as error:
        raise _BadFrameError(ProtocolErrorKind.BAD_FIELDS, "unit reference is not UTF-8") from error
    taken_at = _from_micros(header.taken_at_us)
    mtype = header.message_type
    if mtype == MessageType.IMAGE:
        return _image(header, unit_ref, taken_at, body)
    if mtype == MessageType.HEARTBEAT:
        if body or unit_ref:
            raise _BadFrameError(ProtocolErrorKind.BAD_FIELDS, "a heartbeat has no body or unit")
        return Heartbeat(header.sequence, taken_at)
    if mtype == MessageType.SMART_RESULT:
        fields = _json_body(body, ("text", "symbology", "grade"))
        return SmartResultFrame(unit_ref, header.sequence, taken_at, *fields)
    if mtype == MessageType.ERROR:
        code, message = _json_body(body, ("code", "message"))
        return DeviceErrorFrame(unit_ref, header.sequence, code or "unknown", message or "")
    raise _BadFrameError(ProtocolErrorKind.UNKNOWN_TYPE, f"message type {mtype} is not defined")


def _image(header: _Header, unit_ref: str, taken_at: datetime | None, body: bytes) -> ImageFrame:
    fmt = _WIRE_FORMATS.get(header.pixel_format)
    if fmt is None:
        raise _BadFrameError(ProtocolErrorKind.BAD_FIELDS, f"pixel format {header.pixel_format}")
    if not unit_ref:
        raise _BadFrameError(ProtocolErrorKind.BAD_FIELDS, "an image needs a unit reference")
    if header.width == 0 or header.height == 0:
        raise _BadFrameError(ProtocolErrorKind.BAD_FIELDS, "an image needs a width and a height")
    if fmt is PixelFormat.MONO8 and len(body) != header.width * header.height:
        raise _BadFrameError(
            ProtocolErrorKind.BAD_BODY,
            f"mono8 {header.width}x{header.height} needs {header.width * header.height} "
            f"bytes, got {len(body)}",
        )
    if fmt is PixelFormat.PNG and png_dimensions(body) != (header.width, header.height):
        raise _BadFrameError(ProtocolErrorKind.BAD_BODY, "PNG body does not match the header size")
    return ImageFrame(unit_ref, header.sequence, taken_at, header.width, header.height, fmt, body)


def _json_body(body: bytes, keys: tuple[str, ...]) -> list[str | None]:
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        detail = f"body is not UTF-8 JSON: {error}"
        raise _BadFrameError(ProtocolErrorKind.BAD_BODY, detail) from None
    if not isinstance(document, dict):
        raise _BadFrameError(ProtocolErrorKind.BAD_BODY, "body is not a JSON object")
    values: list[str | None] = []
    for key in keys:
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            raise _BadFrameError(ProtocolErrorKind.BAD_BODY, f"{key!r} must be a string or null")
        values.append(value)
    return values


def _from_micros(micros: int) -> datetime | None:
    if micros == 0:
        return None
    try:
        return datetime.fromtimestamp(micros / 1_000_000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def png_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk, or None if `data` does not start like a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    return width, height


# --- encoder -----------------------------------------------------------------------------------


class FrameEncodingError(UsageError):
    """We were asked to send something the protocol cannot carry."""


class FrameEncoder:
    """Sending side: numbers frames and packs them. Refuses, never truncates, what cannot go."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._sequence = 0

    def image(
        self,
        unit_ref: str,
        width: int,
        height: int,
        pixel_format: PixelFormat,
        data: bytes,
        *,
        taken_at: datetime | None = None,
    ) -> bytes:
        if not unit_ref:
            raise FrameEncodingError("an image needs a unit reference", hint="pass unit_ref")
        if not (0 < width <= self.limits.max_width and 0 < height <= self.limits.max_height):
            raise FrameEncodingError(
                f"image size {width}x{height} is outside 1x1..{self.limits.max_width}x"
                f"{self.limits.max_height}",
                hint="scale the image down or raise the receiver's limits",
            )
        if pixel_format is PixelFormat.MONO8 and len(data) != width * height:
            raise FrameEncodingError(
                f"mono8 {width}x{height} needs {width * height} bytes, got {len(data)}",
                hint="pass one byte per pixel, row by row",
            )
        if pixel_format is PixelFormat.PNG and png_dimensions(data) != (width, height):
            raise FrameEncodingError(
                "PNG data is not a PNG of the announced size",
                hint="pass the PNG file's bytes and its own width and height",
            )
        return self._frame(
            MessageType.IMAGE, unit_ref, data, self.limits.max_body, pixel_format, width, height,
            taken_at,
        )  # fmt: skip

    def smart_result(
        self,
        unit_ref: str,
        text: str | None,
        symbology: str | None = None,
        grade: str | None = None,
        *,
        taken_at: datetime | None = None,
    ) -> bytes:
        body = json.dumps(
            {"text": text, "symbology": symbology, "grade": grade}, ensure_ascii=False
        ).encode("utf-8")
        return self._frame(
            MessageType.SMART_RESULT, unit_ref, body, self.limits.text_cap, None, 0, 0,
            taken_at,
        )  # fmt: skip

    def heartbeat(self, *, taken_at: datetime | None = None) -> bytes:
        return self._frame(MessageType.HEARTBEAT, "", b"", 0, None, 0, 0, taken_at)

    def error(self, code: str, message: str, *, unit_ref: str = "") -> bytes:
        body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode("utf-8")
        return self._frame(
            MessageType.ERROR, unit_ref, body, self.limits.text_cap, None, 0, 0, None
        )

    def _frame(
        self,
        mtype: MessageType,
        unit_ref: str,
        body: bytes,
        cap: int,
        pixel_format: PixelFormat | None,
        width: int,
        height: int,
        taken_at: datetime | None,
    ) -> bytes:
        ref = unit_ref.encode("utf-8")
        if len(ref) > UNIT_REF_SIZE or b"\0" in ref:
            raise FrameEncodingError(
                f"unit reference {unit_ref!r} is longer than {UNIT_REF_SIZE} UTF-8 bytes or "
                "contains NUL",
                hint="use the shift-register position or a short unit id",
            )
        if len(body) > cap:
            raise FrameEncodingError(
                f"{mtype.name.lower()} body of {len(body)} bytes exceeds {cap}",
                hint="compress the image as PNG or raise the receiver's limits",
            )
        self._sequence = (self._sequence + 1) & 0xFFFFFFFF
        micros = 0 if taken_at is None else round((taken_at - _EPOCH).total_seconds() * 1e6)
        header = HEADER.pack(
            MAGIC, VERSION, mtype, _FORMAT_CODES[pixel_format], 0, self._sequence,
            max(micros, 0), width, height, len(body), zlib.crc32(body), ref,
        )  # fmt: skip
        return b"".join((header, HEADER_CRC.pack(zlib.crc32(header)), body))
