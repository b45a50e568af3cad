"""TGP/1, the tracegate printer protocol, sans-IO: bytes in, events out; commands in, bytes out.

`PrinterClientConnection` is the gateway's side, `PrinterServerConnection` the printer's (the
simulator uses it). Neither does I/O, and neither raises on what the peer sends: garbage,
truncated or oversized input becomes a `ProtocolErrorEvent`. Calling a method the protocol does
not allow in the current state is our own mistake and raises `LocalProtocolError`.
Specified in docs/protocols/printer.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from drivers.base import PrinterFault, PrinterStatus
from drivers.printer.framing import MAX_FRAME, FrameError, LineBuffer, decode_frame, encode_frame

VERSION = "TGP/1"
MAX_SEQ = 9999
UNSOLICITED = 0
MAX_TEXT_LINES = 8
MAX_UNIT_REF = 64

__all__ = [
    "MAX_FRAME",
    "MAX_TEXT_LINES",
    "VERSION",
    "ClearRequest",
    "ClientEvent",
    "ClientState",
    "DataRequest",
    "ErrorCode",
    "FaultEvent",
    "GoRequest",
    "HelloAccepted",
    "HelloRequest",
    "LocalProtocolError",
    "NackCode",
    "PrintNack",
    "PrintedAck",
    "PrinterClientConnection",
    "PrinterFault",
    "PrinterServerConnection",
    "PrinterStatus",
    "ProtocolErrorEvent",
    "RequestAccepted",
    "RequestRefused",
    "SelectRequest",
    "ServerEvent",
    "StatusReply",
    "StatusRequest",
]


class LocalProtocolError(Exception):
    """We tried something the protocol does not allow now (our bug, not the peer's)."""


class ErrorCode(StrEnum):
    FRAME = "FRAME"
    VERB = "VERB"
    ARGS = "ARGS"
    STATE = "STATE"
    VERSION = "VERSION"
    UNKNOWN_JOB = "UNKNOWN_JOB"
    FIELDS = "FIELDS"
    NOJOB = "NOJOB"
    DUPLICATE = "DUPLICATE"
    BUFFER_FULL = "BUFFER_FULL"
    OFFLINE = "OFFLINE"
    FAULT = "FAULT"
    EMPTY = "EMPTY"


class NackCode(StrEnum):
    OFFLINE = "OFFLINE"
    INK_OUT = "INK_OUT"
    HEAD = "HEAD"
    MISSED = "MISSED"
    CLEARED = "CLEARED"
    JOB_CHANGED = "JOB_CHANGED"
    OTHER = "OTHER"


# --- events the client receives ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HelloAccepted:
    version: str
    model: str
    max_frame: int
    capacity: int


@dataclass(frozen=True, slots=True)
class RequestAccepted:
    seq: int
    verb: str
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RequestRefused:
    seq: int
    verb: str
    code: str
    text: str


@dataclass(frozen=True, slots=True)
class StatusReply:
    seq: int
    status: PrinterStatus
    capacity: int


@dataclass(frozen=True, slots=True)
class PrintedAck:
    unit_ref: str


@dataclass(frozen=True, slots=True)
class PrintNack:
    unit_ref: str
    reason: str
    code: str = NackCode.OTHER


@dataclass(frozen=True, slots=True)
class FaultEvent:
    faults: frozenset[PrinterFault]


@dataclass(frozen=True, slots=True)
class ProtocolErrorEvent:
    """The peer sent something that breaks the protocol; `data` is the offending bytes."""

    message: str
    data: bytes = b""


ClientEvent = (
    HelloAccepted
    | RequestAccepted
    | RequestRefused
    | StatusReply
    | PrintedAck
    | PrintNack
    | FaultEvent
    | ProtocolErrorEvent
)

# --- requests the server receives ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HelloRequest:
    seq: int
    version: str


@dataclass(frozen=True, slots=True)
class SelectRequest:
    seq: int
    job: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DataRequest:
    seq: int
    unit_ref: str
    payload: str
    text_lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GoRequest:
    seq: int


@dataclass(frozen=True, slots=True)
class StatusRequest:
    seq: int


@dataclass(frozen=True, slots=True)
class ClearRequest:
    seq: int


Request = HelloRequest | SelectRequest | DataRequest | GoRequest | StatusRequest | ClearRequest
ServerEvent = Request | RequestRefused | ProtocolErrorEvent
"""What the printer's side receives; a well-framed but malformed request is the refusal to send."""


# --- shared helpers ------------------------------------------------------------------------


def format_faults(faults: Iterable[PrinterFault]) -> str:
    return ",".join(sorted(f.value for f in faults)) or "-"


def parse_faults(text: str) -> frozenset[PrinterFault] | None:
    if text == "-":
        return frozenset()
    try:
        return frozenset(PrinterFault(name) for name in text.split(","))
    except ValueError:
        return None


def _parse_seq(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        return None
    return int(text)


def _frames(buffer: LineBuffer, data: bytes) -> list[list[str] | ProtocolErrorEvent]:
    out: list[list[str] | ProtocolErrorEvent] = []
    for item in buffer.feed(data):
        decoded = item if isinstance(item, FrameError) else decode_frame(item)
        out.append(
            ProtocolErrorEvent(decoded.message, decoded.data)
            if isinstance(decoded, FrameError)
            else decoded
        )
    return out


class ClientState(StrEnum):
    START = "start"
    HELLO_SENT = "hello_sent"
    IDLE = "idle"
    AWAITING_REPLY = "awaiting_reply"
    CLOSED = "closed"


_CLIENT_TRANSITIONS: dict[tuple[ClientState, str], ClientState] = {
    (ClientState.START, "send_hello"): ClientState.HELLO_SENT,
    (ClientState.HELLO_SENT, "hello_ok"): ClientState.IDLE,
    (ClientState.HELLO_SENT, "hello_refused"): ClientState.CLOSED,
    (ClientState.IDLE, "send_request"): ClientState.AWAITING_REPLY,
    (ClientState.AWAITING_REPLY, "reply"): ClientState.IDLE,
    (ClientState.IDLE, "unsolicited"): ClientState.IDLE,
    (ClientState.AWAITING_REPLY, "unsolicited"): ClientState.AWAITING_REPLY,
}
"""Every legal move of the client; anything else is our error (a send) or the peer's (a reply)."""


class PrinterClientConnection:
    """The gateway's side of one TGP connection: one request in flight at a time."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.state = ClientState.START
        self._lines = LineBuffer(max_frame)
        self._seq = 0
        self._in_flight: tuple[int, str] | None = None
        self.peer_max_frame = MAX_FRAME
        """The printer's frame limit from its HELLO reply; our frames must respect it."""

    @property
    def buffered(self) -> int:
        return self._lines.buffered

    @property
    def in_flight(self) -> str | None:
        return None if self._in_flight is None else self._in_flight[1]

    def _move(self, action: str) -> bool:
        target = _CLIENT_TRANSITIONS.get((self.state, action))
        if target is None:
            return False
        self.state = target
        return True

    def _send(self, action: str, verb: str, args: list[str]) -> bytes:
        if self.state is ClientState.CLOSED:
            raise LocalProtocolError("the connection is closed")
        if (self.state, action) not in _CLIENT_TRANSITIONS:
            raise LocalProtocolError(f"cannot send {verb} in state {self.state.value}")
        self._seq = self._seq % MAX_SEQ + 1
        try:
            frame = encode_frame([str(self._seq), verb, *args])
        except ValueError as error:
            raise LocalProtocolError(f"{verb}: {error}") from None
        if len(frame) > self.peer_max_frame:
            raise LocalProtocolError(
                f"{verb}: frame of {len(frame)} bytes exceeds the printer's "
                f"{self.peer_max_frame}-byte limit"
            )
        self._move(action)
        self._in_flight = (self._seq, verb)
        return frame

    def send_hello(self) -> bytes:
        return self._send("send_hello", "HELLO", [VERSION])

    def send_select(self, job: str, fields: Iterable[str]) -> bytes:
        names = list(fields)
        if not job or not 1 <= len(names) <= MAX_TEXT_LINES + 1:
            raise LocalProtocolError(
                f"SELECT needs a job name and 1-{MAX_TEXT_LINES + 1} field names, got {names}"
            )
        return self._send("send_request", "SELECT", [job, *names])

    def send_data(self, unit_ref: str, payload: str, text_lines: Iterable[str] = ()) -> bytes:
        lines = list(text_lines)
        if not 1 <= len(unit_ref) <= MAX_UNIT_REF:
            raise LocalProtocolError(f"unit reference of {len(unit_ref)} characters; 1-64")
        if len(lines) > MAX_TEXT_LINES:
            raise LocalProtocolError(f"{len(lines)} text lines; at most {MAX_TEXT_LINES}")
        return self._send("send_request", "DATA", [unit_ref, payload, *lines])

    def send_go(self) -> bytes:
        return self._send("send_request", "GO", [])

    def send_status(self) -> bytes:
        return self._send("send_request", "STATUS", [])

    def send_clear(self) -> bytes:
        return self._send("send_request", "CLEAR", [])

    def receive_data(self, data: bytes) -> list[ClientEvent]:
        events: list[ClientEvent] = []
        for frame in _frames(self._lines, data):
            if isinstance(frame, ProtocolErrorEvent):
                events.append(frame)
            elif self.state is ClientState.CLOSED:
                events.append(ProtocolErrorEvent("frame after the connection was closed"))
            else:
                events.append(self._interpret(frame))
        return events

    def receive_eof(self) -> list[ClientEvent]:
        self.state = ClientState.CLOSED
        return [ProtocolErrorEvent(e.message, e.data) for e in self._lines.close()]

    def _interpret(self, fields: list[str]) -> ClientEvent:
        raw = "\t".join(fields).encode("utf-8", "replace")
        if len(fields) < 2:
            return ProtocolErrorEvent("frame without sequence number and verb", raw)
        seq, verb, args = _parse_seq(fields[0]), fields[1], fields[2:]
        if seq is None:
            return ProtocolErrorEvent(f"sequence number {fields[0]!r} is not 0-{MAX_SEQ}", raw)
        if seq == UNSOLICITED and verb in ("PRINTED", "NACK", "FAULTS", "ERR"):
            if not self._move("unsolicited"):
                return ProtocolErrorEvent(f"{verb} before the HELLO exchange", raw)
            return self._unsolicited(verb, args, raw)
        if verb not in ("OK", "ERR"):
            return ProtocolErrorEvent(f"unknown verb {verb!r}", raw)
        if self._in_flight is None or self._in_flight[0] != seq:
            return ProtocolErrorEvent(f"reply to sequence {seq}, which is not in flight", raw)
        request = self._in_flight[1]
        self._in_flight = None
        if verb == "ERR":
            if len(args) < 2:
                return ProtocolErrorEvent("ERR needs a code and a text", raw)
            self._move("hello_refused" if request == "HELLO" else "reply")
            return RequestRefused(seq, request, args[0], args[1])
        if request == "HELLO":
            return self._hello_ok(args, raw)
        self._move("reply")
        if request == "STATUS":
            return _status_reply(seq, args, raw)
        return RequestAccepted(seq, request, tuple(args))

    def _hello_ok(self, args: list[str], raw: bytes) -> ClientEvent:
        if len(args) != 4 or not all(a.isascii() and a.isdigit() for a in args[2:]):
            self.state = ClientState.CLOSED
            return ProtocolErrorEvent("HELLO reply needs version, model, max_frame, capacity", raw)
        self._move("hello_ok")
        self.peer_max_frame = min(MAX_FRAME, int(args[2]))
        return HelloAccepted(args[0], args[1], int(args[2]), int(args[3]))

    def _unsolicited(self, verb: str, args: list[str], raw: bytes) -> ClientEvent:
        if verb == "PRINTED" and len(args) == 1:
            return PrintedAck(args[0])
        if verb == "NACK" and len(args) == 3:
            return PrintNack(args[0], args[2], args[1])
        if verb == "FAULTS" and len(args) == 1:
            faults = parse_faults(args[0])
            if faults is not None:
                return FaultEvent(faults)
        if verb == "ERR" and len(args) == 2:
            return ProtocolErrorEvent(f"printer reports {args[0]}: {args[1]}", raw)
        return ProtocolErrorEvent(f"malformed {verb} message", raw)


def _status_reply(seq: int, args: list[str], raw: bytes) -> ClientEvent:
    values: dict[str, str] = {}
    for arg in args:
        key, _, value = arg.partition("=")
        values[key] = value
    try:
        faults = parse_faults(values["faults"])
        if faults is None or values["ready"] not in ("0", "1"):
            raise ValueError
        status = PrinterStatus(
            ready=values["ready"] == "1",
            job=values["job"] or None,
            faults=faults,
            queued=int(values["queued"]),
        )
        return StatusReply(seq, status, int(values["capacity"]))
    except (KeyError, ValueError):
        return ProtocolErrorEvent("STATUS reply needs ready, job, queued, capacity, faults", raw)


# --- the printer's side ----------------------------------------------------------------------


class PrinterServerConnection:
    """The printer's side of one TGP connection: frames in, requests out; replies as bytes.

    Requests before a successful HELLO are answered `ERR STATE` by the caller; this class
    reports them with `hello_done` still False.
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._lines = LineBuffer(max_frame)
        self.hello_done = False

    @property
    def buffered(self) -> int:
        return self._lines.buffered

    def receive_data(self, data: bytes) -> list[ServerEvent]:
        out: list[ServerEvent] = []
        for frame in _frames(self._lines, data):
            out.append(frame if isinstance(frame, ProtocolErrorEvent) else _request(frame))
        return out

    def receive_eof(self) -> list[ProtocolErrorEvent]:
        return [ProtocolErrorEvent(e.message, e.data) for e in self._lines.close()]

    @staticmethod
    def ok(seq: int, *args: str) -> bytes:
        return encode_frame([str(seq), "OK", *args])

    @staticmethod
    def error(seq: int, code: ErrorCode, text: str) -> bytes:
        return encode_frame([str(seq), "ERR", code.value, text])

    def hello_ok(self, seq: int, model: str, capacity: int) -> bytes:
        self.hello_done = True
        return self.ok(seq, VERSION, model, str(self._lines.limit), str(capacity))

    @staticmethod
    def status(seq: int, status: PrinterStatus, capacity: int) -> bytes:
        return encode_frame(
            [
                str(seq),
                "OK",
                f"ready={int(status.ready)}",
                f"job={status.job or ''}",
                f"queued={status.queued}",
                f"capacity={capacity}",
                f"faults={format_faults(status.faults)}",
            ]
        )

    @staticmethod
    def printed(unit_ref: str) -> bytes:
        return encode_frame([str(UNSOLICITED), "PRINTED", unit_ref])

    @staticmethod
    def nack(unit_ref: str, code: NackCode, text: str) -> bytes:
        return encode_frame([str(UNSOLICITED), "NACK", unit_ref, code.value, text])

    @staticmethod
    def faults(faults: Iterable[PrinterFault]) -> bytes:
        return encode_frame([str(UNSOLICITED), "FAULTS", format_faults(faults)])


def _request(fields: list[str]) -> Request | RequestRefused:
    seq = _parse_seq(fields[0]) if fields else None
    if seq is None or seq == UNSOLICITED or len(fields) < 2:
        return RequestRefused(UNSOLICITED, "", ErrorCode.FRAME, "frame needs seq 1-9999 and verb")
    verb, args = fields[1], fields[2:]
    match verb, args:
        case "HELLO", [version]:
            return HelloRequest(seq, version)
        case "SELECT", [job, *names] if job and len(names) <= MAX_TEXT_LINES + 1:
            return SelectRequest(seq, job, tuple(names))
        case "DATA", [unit_ref, payload, *lines] if (
            0 < len(unit_ref) <= MAX_UNIT_REF and len(lines) <= MAX_TEXT_LINES
        ):
            return DataRequest(seq, unit_ref, payload, tuple(lines))
        case "GO", []:
            return GoRequest(seq)
        case "STATUS", []:
            return StatusRequest(seq)
        case "CLEAR", []:
            return ClearRequest(seq)
        case (("HELLO" | "SELECT" | "DATA" | "GO" | "STATUS" | "CLEAR"), _):
            return RequestRefused(seq, verb, ErrorCode.ARGS, f"wrong arguments for {verb}")
    return RequestRefused(seq, verb, ErrorCode.VERB, f"unknown command {verb!r}")
