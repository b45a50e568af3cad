"""A TGP/1 printer (docs/protocols/printer.md) that prints onto simulated units.

Each print is recorded per unit reference as a `PrintedUnit` — what actually landed on the unit,
which with print faults is not always what was sent — in `printed` and through `on_print`, so a
camera simulator can render it. Printing happens every `print_interval` seconds while the queue
holds items (a photocell firing as units pass), or on `trigger()` / a GO command when
`print_interval` is None. Run alone: `python -m simulators.printer --port 9100`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import signal
import sys
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from drivers.printer.protocol import (
    VERSION,
    ClearRequest,
    DataRequest,
    ErrorCode,
    GoRequest,
    HelloRequest,
    NackCode,
    PrinterFault,
    PrinterServerConnection,
    PrinterStatus,
    ProtocolErrorEvent,
    RequestRefused,
    SelectRequest,
    ServerEvent,
    StatusRequest,
)
from simulators.faults import (
    FaultInjector,
    FaultyWriter,
    add_fault_arguments,
    faults_from_arguments,
    shut_down,
)
from simulators.serving import AsyncServer

_BLOCKING: dict[PrinterFault, NackCode] = {
    PrinterFault.OFFLINE: NackCode.OFFLINE,
    PrinterFault.INK_OUT: NackCode.INK_OUT,
    PrinterFault.HEAD: NackCode.HEAD,
    PrinterFault.OTHER: NackCode.OTHER,
}


class PrintDefect(StrEnum):
    SKIP = "skip"
    SMUDGE = "smudge"
    WRONG_DATA = "wrong_data"


@dataclass(frozen=True, slots=True)
class PrintedUnit:
    """What is on one unit after the printer's pass."""

    unit_ref: str
    job: str
    sent_payload: str
    payload: str | None
    """What was printed; None when the print was skipped (the unit is blank)."""
    text_lines: tuple[str, ...]
    smudged: bool = False

    @property
    def wrong_data(self) -> bool:
        return self.payload is not None and self.payload != self.sent_payload

    @property
    def defect(self) -> PrintDefect | None:
        if self.payload is None:
            return PrintDefect.SKIP
        if self.wrong_data:
            return PrintDefect.WRONG_DATA
        return PrintDefect.SMUDGE if self.smudged else None


@dataclass
class PrintFaults:
    """Per-print probabilities of the faults a real coder shows.

    A unit gets at most one of skip, wrong data and smudge, so their rates add up (to 1 at
    most); a NACK is rolled first, on its own.
    """

    skip: float = 0.0
    """The printer confirms, but nothing lands on the unit (missed photocell, blocked nozzle)."""
    smudge: float = 0.0
    """The print is there but damaged."""
    wrong_data: float = 0.0
    """Different data is printed (a stale buffer)."""
    nack: float = 0.0
    """The printer reports the unit as not printed (NACK MISSED)."""

    def __post_init__(self) -> None:
        for name in ("skip", "smudge", "wrong_data", "nack"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"print fault {name}={rate} is not a probability between 0 and 1")
        if self.skip + self.smudge + self.wrong_data > 1.0 + 1e-9:
            raise ValueError(
                f"print faults skip+smudge+wrong_data = "
                f"{self.skip + self.smudge + self.wrong_data:g} exceed 1 (one defect per unit)"
            )


@dataclass
class _Peer:
    out: FaultyWriter
    protocol: PrinterServerConnection = field(default_factory=PrinterServerConnection)
    queue: deque[DataRequest] = field(default_factory=deque)
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, frame: bytes) -> None:
        async with self.write_lock:
            with contextlib.suppress(ConnectionError, OSError):
                await self.out.write(frame)


class PrinterSimulator(AsyncServer):
    """A TGP/1 printer on a TCP port; the newest connection is the controlling one."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        jobs: Mapping[str, Sequence[str]] | None = None,
        capacity: int = 64,
        print_interval: float | None = 0.01,
        print_faults: PrintFaults | None = None,
        injector: FaultInjector | None = None,
        on_print: Callable[[PrintedUnit], None] | None = None,
        seed: int | None = None,
        model: str = "tracegate-sim",
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity {capacity} must be at least 1")
        if print_interval is not None and print_interval <= 0:
            raise ValueError(f"print interval {print_interval} must be positive")
        self.host, self.port = host, port
        self.jobs = None if jobs is None else {name: tuple(f) for name, f in jobs.items()}
        self.capacity = capacity
        self.print_interval = print_interval
        self.print_faults = print_faults or PrintFaults()
        self.injector = injector or FaultInjector(seed=seed)
        self.on_print = on_print
        self.model = model
        self.printed: dict[str, PrintedUnit] = {}
        self.faults: set[PrinterFault] = set()
        self.job: tuple[str, tuple[str, ...]] | None = None
        self._random = random.Random(seed)  # noqa: S311 - simulated defects, not secrets
        self._server: asyncio.Server | None = None
        self._peer: _Peer | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._printing: asyncio.Task[None] | None = None
        self._work = asyncio.Event()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.print_interval is not None:
            self._printing = asyncio.create_task(self._print_loop(self.print_interval))

    async def close(self) -> None:
        if self._printing is not None:
            self._printing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._printing
        server, self._server = self._server, None
        await shut_down(server, self.injector, self._handlers)

    # --- what a test or the line simulator drives -----------------------------------------------

    @property
    def queued(self) -> int:
        return 0 if self._peer is None else len(self._peer.queue)

    def status(self) -> PrinterStatus:
        faults = set(self.faults)
        if self.queued >= self.capacity:
            faults.add(PrinterFault.BUFFER_FULL)
        return PrinterStatus(
            ready=self.job is not None and not self._blocking_fault(),
            job=None if self.job is None else self.job[0],
            faults=frozenset(faults),
            queued=self.queued,
        )

    async def set_fault(self, fault: PrinterFault, active: bool = True) -> None:
        """Raise or clear a printer condition; a blocking one refuses everything queued."""
        if active == (fault in self.faults):
            return
        if active:
            self.faults.add(fault)
        else:
            self.faults.discard(fault)
        peer = self._peer
        if peer is None:
            return
        if active and fault in _BLOCKING:
            await self._refuse_queue(peer, _BLOCKING[fault], f"printer {fault.value}")
        await peer.send(PrinterServerConnection.faults(self.faults))

    async def set_offline(self, offline: bool = True) -> None:
        await self.set_fault(PrinterFault.OFFLINE, offline)

    async def trigger(self) -> PrintedUnit | None:
        """A product-detect signal: print the next queued unit, if any."""
        peer = self._peer
        if peer is None or not peer.queue or self._blocking_fault():
            return None
        return await self._print(peer, peer.queue.popleft())

    # --- connections ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        peer = _Peer(self.injector.wrap(writer))
        if self._peer is not None:
            self._peer.out.abort()
        self._peer = peer
        try:
            while data := await reader.read(65536):
                for event in peer.protocol.receive_data(data):
                    await self._handle(peer, event)
        except (ConnectionError, OSError):
            pass
        finally:
            if self._peer is peer:
                self._peer = None
            self._handlers.discard(task)
            await peer.out.close()

    async def _handle(self, peer: _Peer, event: ServerEvent) -> None:
        reply = PrinterServerConnection
        match event:
            case ProtocolErrorEvent(message=message):
                await peer.send(reply.error(0, ErrorCode.FRAME, message))
            case RequestRefused(seq=seq, code=code, text=text):
                await peer.send(reply.error(seq, ErrorCode(code), text))
            case HelloRequest(seq=seq, version=version):
                if version != VERSION:
                    await peer.send(reply.error(seq, ErrorCode.VERSION, f"speaks {VERSION} only"))
                else:
                    await peer.send(peer.protocol.hello_ok(seq, self.model, self.capacity))
            case _ if not peer.protocol.hello_done:
                await peer.send(reply.error(event.seq, ErrorCode.STATE, "send HELLO first"))
            case SelectRequest():
                await self._select(peer, event)
            case DataRequest():
                await self._data(peer, event)
            case GoRequest(seq=seq):
                if not peer.queue:
                    await peer.send(reply.error(seq, ErrorCode.EMPTY, "nothing queued"))
                elif self._blocking_fault():
                    await peer.send(reply.error(seq, ErrorCode.OFFLINE, "printer not ready"))
                else:
                    item = peer.queue.popleft()
                    await peer.send(reply.ok(seq, item.unit_ref))
                    await self._print(peer, item)
            case StatusRequest(seq=seq):
                await peer.send(reply.status(seq, self.status(), self.capacity))
            case ClearRequest(seq=seq):
                count = len(peer.queue)
                await self._refuse_queue(peer, NackCode.CLEARED, "queue cleared")
                await peer.send(reply.ok(seq, str(count)))

    async def _select(self, peer: _Peer, request: SelectRequest) -> None:
        reply = PrinterServerConnection
        known = None if self.jobs is None else self.jobs.get(request.job)
        if self.jobs is not None and known is None:
            names = ", ".join(sorted(self.jobs)) or "none"
            text = f"no message {request.job!r}; known: {names}"
            await peer.send(reply.error(request.seq, ErrorCode.UNKNOWN_JOB, text))
        elif known is not None and known != request.fields:
            text = f"message {request.job!r} has fields {','.join(known)}"
            await peer.send(reply.error(request.seq, ErrorCode.FIELDS, text))
        elif not request.fields:
            await peer.send(reply.error(request.seq, ErrorCode.ARGS, "a message needs a field"))
        else:
            await self._refuse_queue(peer, NackCode.JOB_CHANGED, f"message {request.job} selected")
            self.job = (request.job, request.fields)
            await peer.send(reply.ok(request.seq))

    async def _data(self, peer: _Peer, request: DataRequest) -> None:
        reply, seq = PrinterServerConnection, request.seq
        blocking = self._blocking_fault()
        if blocking is not None:
            code = ErrorCode.OFFLINE if blocking is PrinterFault.OFFLINE else ErrorCode.FAULT
            await peer.send(reply.error(seq, code, f"printer {blocking.value}"))
        elif self.job is None:
            await peer.send(reply.error(seq, ErrorCode.NOJOB, "select a message first"))
        elif 1 + len(request.text_lines) != len(self.job[1]):
            text = f"message {self.job[0]} has {len(self.job[1])} fields"
            await peer.send(reply.error(seq, ErrorCode.FIELDS, text))
        elif any(item.unit_ref == request.unit_ref for item in peer.queue):
            await peer.send(reply.error(seq, ErrorCode.DUPLICATE, "unit already queued"))
        elif len(peer.queue) >= self.capacity:
            await peer.send(reply.error(seq, ErrorCode.BUFFER_FULL, f"{self.capacity} queued"))
        else:
            peer.queue.append(request)
            self._work.set()
            await peer.send(reply.ok(seq, str(len(peer.queue))))

    # --- printing -------------------------------------------------------------------------

    def _blocking_fault(self) -> PrinterFault | None:
        return next((f for f in _BLOCKING if f in self.faults), None)

    async def _refuse_queue(self, peer: _Peer, code: NackCode, text: str) -> None:
        while peer.queue:
            item = peer.queue.popleft()
            await peer.send(PrinterServerConnection.nack(item.unit_ref, code, text))

    async def _print_loop(self, interval: float) -> None:
        while True:
            await self._work.wait()
            await asyncio.sleep(interval)
            if await self.trigger() is None and not self.queued:
                self._work.clear()

    async def _print(self, peer: _Peer, item: DataRequest) -> PrintedUnit | None:
        faults, roll = self.print_faults, self._random.random
        if faults.nack and roll() < faults.nack:
            text = "unit passed before the print was ready"
            await peer.send(PrinterServerConnection.nack(item.unit_ref, NackCode.MISSED, text))
            return None
        payload: str | None = item.payload
        smudged = False
        defects = faults.skip + faults.wrong_data + faults.smudge
        draw = roll() if defects else 1.0
        if draw < faults.skip:
            payload = None
        elif draw < faults.skip + faults.wrong_data:
            payload = self._corrupt(item.payload)
        elif draw < defects:
            smudged = True
        unit = PrintedUnit(
            unit_ref=item.unit_ref,
            job=self.job[0] if self.job else "",
            sent_payload=item.payload,
            payload=payload,
            text_lines=item.text_lines,
            smudged=smudged,
        )
        self.printed[item.unit_ref] = unit
        if self.on_print is not None:
            self.on_print(unit)
        await peer.send(PrinterServerConnection.printed(item.unit_ref))
        return unit

    def _corrupt(self, payload: str) -> str:
        if not payload:
            return "0"
        i = self._random.randrange(len(payload))
        replacement = "0" if payload[i] != "0" else "1"
        return payload[:i] + replacement + payload[i + 1 :]


# --- command line ------------------------------------------------------------------------


def _job(text: str) -> tuple[str, tuple[str, ...]]:
    name, _, fields = text.partition("=")
    if not name or not fields:
        raise argparse.ArgumentTypeError(f"{text!r}: write a job as NAME=field1,field2,...")
    return name, tuple(fields.split(","))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.printer", description="A simulated TGP/1 printer."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument(
        "--job", type=_job, action="append", default=[], metavar="NAME=FIELD,...",
        help="a known message and its fields (repeatable); without any, every job is accepted",
    )  # fmt: skip
    parser.add_argument("--capacity", type=int, default=64, help="units the queue holds")
    timing = parser.add_mutually_exclusive_group()
    timing.add_argument(
        "--print-interval", type=float, default=0.01, metavar="S",
        help="print the next queued unit every S seconds (a photocell firing)",
    )  # fmt: skip
    timing.add_argument(
        "--print-go", action="store_true", help="print only on a GO command (software trigger)"
    )
    rates = parser.add_argument_group("print faults (probability per unit)")
    rates.add_argument("--skip", type=float, default=0.0, metavar="RATE", help="blank unit")
    rates.add_argument("--smudge", type=float, default=0.0, metavar="RATE", help="damaged print")
    rates.add_argument("--wrong-data", type=float, default=0.0, metavar="RATE")
    rates.add_argument("--nack", type=float, default=0.0, metavar="RATE", help="NACK MISSED")
    parser.add_argument("--offline", action="store_true", help="start offline")
    parser.add_argument("--seed", type=int)
    add_fault_arguments(parser)
    return parser


async def _run(args: argparse.Namespace) -> None:
    simulator = PrinterSimulator(
        host=args.host,
        port=args.port,
        jobs=dict(args.job) or None,
        capacity=args.capacity,
        print_interval=None if args.print_go else args.print_interval,
        print_faults=PrintFaults(args.skip, args.smudge, args.wrong_data, args.nack),
        injector=FaultInjector(faults_from_arguments(args), seed=args.seed),
        seed=args.seed,
    )
    if args.offline:
        simulator.faults.add(PrinterFault.OFFLINE)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with simulator:
        print(f"printer simulator listening on {simulator.host}:{simulator.port}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        asyncio.run(_run(args))
    except ValueError as error:
        parser.error(str(error))
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        print("fix: choose a free --port", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
