"""Handheld scanner framing, sans-IO: a byte stream in, one `ScanData` per scan out.

A scanner sends each read followed by a suffix (CR, LF or CR LF by default, or whatever the
scanner is programmed with). The data between suffixes is kept byte for byte: the AIM symbology
identifier (`]d2`, `]C1`, `]Q3`, ...) and the GS (0x1D), RS, FS and EOT separators of GS1 and
ISO/IEC 15434 data included. Other control bytes, invalid text, an over-long read and a read cut
off by the end of the stream are reported as `ScanProtocolError` (a wrong baud rate or suffix
shows up that way); nothing here raises on input, and the buffer never holds more than
`max_length` bytes between calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_MAX_LENGTH = 4096
ALLOWED_CONTROLS = frozenset({0x04, 0x1C, 0x1D, 0x1E})
"""EOT, FS, GS, RS: the separators of GS1 element strings and ISO/IEC 15434 messages."""

_AIM = re.compile(r"\][A-Za-z][0-9A-Za-z]")


@dataclass(frozen=True, slots=True)
class ScanData:
    text: str
    raw: bytes

    @property
    def symbology(self) -> str | None:
        """The AIM symbology identifier the scan starts with (`]d2`), if any."""
        return self.text[:3] if _AIM.match(self.text) else None


@dataclass(frozen=True, slots=True)
class ScanProtocolError:
    message: str
    data: bytes = b""


DecoderEvent = ScanData | ScanProtocolError


class ScanDecoder:
    """Splits a scanner's byte stream into scans.

    `suffix=None` ends a scan at CR or LF (CR LF gives one scan: empty scans are dropped);
    otherwise exactly `suffix` ends it.
    """

    def __init__(
        self,
        suffix: bytes | None = None,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
        encoding: str = "utf-8",
    ) -> None:
        if suffix is not None and not suffix:
            raise ValueError("a scanner suffix must not be empty; use None for CR / LF")
        if max_length < 16:
            raise ValueError(f"max_length {max_length} is too small for any code; use >= 16")
        "".encode(encoding)
        self.suffix = suffix
        self.max_length = max_length
        self.encoding = encoding
        self._ends = b"\r\n" if suffix is None else suffix[-1:]
        self._buffer = bytearray()
        self._overflow = False

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[DecoderEvent]:
        out: list[DecoderEvent] = []
        start = 0
        while start < len(data):
            stop = self._piece_end(data, start)
            self._buffer += data[start:stop]
            start = stop
            line = self._complete_line()
            if line is not None:
                if self._overflow:
                    self._overflow = False
                elif len(line) > self.max_length:
                    out.append(self._too_long(line))
                elif line:
                    out.append(self._decode(line))
            elif len(self._buffer) > self.max_length:
                if not self._overflow:
                    out.append(self._too_long(bytes(self._buffer)))
                self._overflow = True
                keep = len(self.suffix or b"\n") - 1
                del self._buffer[: len(self._buffer) - keep]
        return out

    def close(self) -> list[DecoderEvent]:
        """End of stream: a partial scan is reported, not delivered."""
        leftover, overflow = bytes(self._buffer), self._overflow
        self._buffer.clear()
        self._overflow = False
        if overflow or not leftover:
            return []
        return [ScanProtocolError("stream ended inside a scan (no suffix)", leftover)]

    def _too_long(self, data: bytes) -> ScanProtocolError:
        return ScanProtocolError(
            f"no suffix within {self.max_length} bytes: the scan is too long or the scanner's "
            "suffix setting does not match",
            data[:64],
        )

    def _piece_end(self, data: bytes, start: int) -> int:
        limit = min(len(data), start + self.max_length)
        ends = [i for i in (data.find(b, start, limit) for b in self._ends) if i >= 0]
        return min(ends) + 1 if ends else limit

    def _complete_line(self) -> bytes | None:
        buffer = self._buffer
        if self.suffix is None:
            if not buffer or buffer[-1] not in b"\r\n":
                return None
            line = bytes(buffer[:-1])
        else:
            if not buffer.endswith(self.suffix):
                return None
            line = bytes(buffer[: -len(self.suffix)])
        buffer.clear()
        return line

    def _decode(self, raw: bytes) -> DecoderEvent:
        bad = next((b for b in raw if (b < 0x20 or b == 0x7F) and b not in ALLOWED_CONTROLS), None)
        if bad is not None:
            return ScanProtocolError(
                f"control byte 0x{bad:02X} in a scan; check the baud rate and the suffix", raw
            )
        try:
            return ScanData(raw.decode(self.encoding), raw)
        except UnicodeDecodeError as error:
            return ScanProtocolError(
                f"not {self.encoding} at byte {error.start}; set the scanner's encoding", raw
            )
