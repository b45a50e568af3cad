"""TGP framing: one frame per line, `<body>*<CRC>\\r\\n`, fields separated by TAB.

The body is UTF-8; inside a field every byte below 0x20, 0x7F and `%` is written as `%XX`, so
a GS1 payload's GS (0x1D) travels as `%1D` and a frame never holds a raw control byte except the
TAB separators. The CRC is CRC-16/CCITT-FALSE of the body, four upper-case hex digits.
Specified in docs/protocols/printer.md.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

MAX_FRAME = 1024
"""Longest frame in bytes, `*CRC\\r\\n` included."""

TRAILER_LEN = len(b"*0000\r\n")
_ESCAPED = frozenset([*range(0x20), 0x25, 0x7F])
_ESCAPE = re.compile(rb"%([0-9A-F]{2})")
_CRC_DIGITS = frozenset(b"0123456789ABCDEF")


@dataclass(frozen=True, slots=True)
class FrameError:
    """The peer sent bytes that are not a well-formed frame."""

    message: str
    data: bytes


def crc16(body: bytes) -> int:
    return binascii.crc_hqx(body, 0xFFFF)


def escape_field(text: str) -> bytes:
    raw = text.encode("utf-8")
    if not any(b in _ESCAPED for b in raw):
        return raw
    return b"".join(b"%%%02X" % b if b in _ESCAPED else bytes((b,)) for b in raw)


def unescape_field(raw: bytes) -> str:
    """Reverse of `escape_field`; raises ValueError on a stray `%` or invalid UTF-8."""
    if b"%" in raw:
        parts = _ESCAPE.split(raw)
        if any(b"%" in chunk for chunk in parts[0::2]):
            raise ValueError("a '%' not followed by two upper-case hex digits")
        raw = b"".join(
            bytes((int(chunk, 16),)) if i % 2 else chunk for i, chunk in enumerate(parts)
        )
    return raw.decode("utf-8")


def encode_frame(fields: list[str]) -> bytes:
    """Fields to one frame; raises ValueError if the frame would exceed MAX_FRAME."""
    body = b"\t".join(escape_field(f) for f in fields)
    frame = body + b"*%04X\r\n" % crc16(body)
    if len(frame) > MAX_FRAME:
        raise ValueError(f"frame of {len(frame)} bytes exceeds the {MAX_FRAME}-byte limit")
    return frame


def decode_frame(line: bytes) -> list[str] | FrameError:
    """One complete line (with its CR LF) to its fields, or why it is not a frame."""
    if len(line) < TRAILER_LEN or not line.endswith(b"\r\n") or line[-TRAILER_LEN] != ord("*"):
        return FrameError("frame does not end in '*CRC' and CR LF", line)
    body, crc_text = line[:-TRAILER_LEN], line[-TRAILER_LEN + 1 : -2]
    if not set(crc_text) <= _CRC_DIGITS:
        return FrameError("checksum is not four upper-case hex digits", line)
    if int(crc_text, 16) != crc16(body):
        return FrameError("checksum mismatch", line)
    if any((b < 0x20 and b != 0x09) or b == 0x7F for b in body):
        return FrameError("raw control byte inside a frame (escape it as %XX)", line)
    try:
        return [unescape_field(f) for f in body.split(b"\t")]
    except ValueError as error:
        return FrameError(f"bad field encoding: {error}", line)


class LineBuffer:
    """Splits a byte stream into lines of at most `limit` bytes; never holds more than that.

    A line over the limit is reported once and skipped up to its end; so is garbage that never
    ends. `close()` reports a partial line left at end of stream.
    """

    def __init__(self, limit: int = MAX_FRAME) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._skipping = False

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        out: list[bytes | FrameError] = []
        start = 0
        while start < len(data):
            end = data.find(b"\n", start)
            stop = len(data) if end < 0 else end + 1
            chunk = data[start:stop]
            start = stop
            if self._skipping:
                self._skipping = end < 0
                continue
            if len(self._buffer) + len(chunk) > self.limit:
                out.append(FrameError(f"line longer than {self.limit} bytes", bytes(self._buffer)))
                self._buffer.clear()
                self._skipping = end < 0
                continue
            self._buffer += chunk
            if end >= 0:
                out.append(bytes(self._buffer))
                self._buffer.clear()
        return out

    def close(self) -> list[FrameError]:
        if self._skipping or not self._buffer:
            self._buffer.clear()
            return []
        partial = bytes(self._buffer)
        self._buffer.clear()
        return [FrameError("stream ended inside a frame (truncated)", partial)]
