"""A TGP/1 printer (docs/protocols/printer.md) on a TCP port, printing onto simulated units.

The coder itself — messages, queue, print faults, what lands on each unit — is
`simulators.coder.Coder`; this module speaks TGP/1 for it. Each print is recorded per unit
reference as a `PrintedUnit` in `printed` and through `on_print`, so a camera simulator can
render it. Printing happens every `print_interval` seconds while the queue holds items (a
photocell firing as units pass), or on `trigger()` / a GO command when `print_interval` is None.
Run alone: `python -m simulators.printer --port 9100`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from drivers.printer.protocol import (
    VERSION,
    ClearRequest,
    DataRequest,
    ErrorCode,
    GoRequest,
    HelloRequest,
    PrinterFault,
    PrinterServerConnection,
    ProtocolErrorEvent,
    RequestRefused,
    SelectRequest,
    ServerEvent,
    StatusRequest,
)
from simulators.coder import (
    Coder,
    CoderFront,
    CoderReport,
    PrintDefect,
    PrintedUnit,
    PrintFaults,
    QueuedUnit,
    Refusal,
)
from simulators.faults import (
    FaultInjector,
    FaultyWriter,
    add_fault_arguments,
    faults_from_arguments,
    shut_down,
)
from simulators.serving import AsyncServer

__all__ = ["PrintDefect", "PrintFaults", "PrintedUnit", "PrinterSimulator"]


@dataclass
class _Peer:
    """The controlling connection; the coder's listener while it lasts."""

    out: FaultyWriter
    protocol: PrinterServerConnection = field(default_factory=PrinterServerConnection)
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, frame: bytes) -> None:
        async with self.write_lock:
            with contextlib.suppress(ConnectionError, OSError):
                await self.out.write(frame)

    async def report(self, report: CoderReport) -> None:
        if report.code is None:
            await self.send(PrinterServerConnection.printed(report.unit_ref))
        else:
            await self.send(PrinterServerConnection.nack(report.unit_ref, report.code, report.text))

    async def faults_changed(self, faults: frozenset[PrinterFault]) -> None:
        await self.send(PrinterServerConnection.faults(faults))


class PrinterSimulator(CoderFront, AsyncServer):
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
        self.host, self.port = host, port
        self.coder = Coder(
            jobs=jobs,
            capacity=capacity,
            print_interval=print_interval,
            print_faults=print_faults,
            on_print=on_print,
            seed=seed,
            model=model,
        )
        self.injector = injector or FaultInjector(seed=seed)
        self._server: asyncio.Server | None = None
        self._peer: _Peer | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        await self.coder.start()

    async def close(self) -> None:
        await self.coder.close()
        server, self._server = self._server, None
        await shut_down(server, self.injector, self._handlers)

    # --- connections ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        peer = _Peer(self.injector.wrap(writer))
        if self._peer is not None:
            self._peer.out.abort()
        self._peer = peer
        self.coder.forget_queue()
        self.coder.listener = peer
        try:
            while data := await reader.read(65536):
                for event in peer.protocol.receive_data(data):
                    await self._handle(peer, event)
        except (ConnectionError, OSError):
            pass
        finally:
            if self._peer is peer:
                self._peer = None
                self.coder.listener = None
                self.coder.forget_queue()
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
            case SelectRequest(seq=seq, job=job, fields=fields):
                refused = await self.coder.select(job, fields)
                await peer.send(reply.ok(seq) if refused is None else _error(seq, refused))
            case DataRequest(seq=seq, unit_ref=ref, payload=payload, text_lines=lines):
                queued = await self.coder.queue_unit(ref, payload, lines)
                if isinstance(queued, Refusal):
                    await peer.send(_error(seq, queued))
                else:
                    await peer.send(reply.ok(seq, str(queued)))
            case GoRequest(seq=seq):
                item = self.coder.take_next()
                if isinstance(item, Refusal):
                    await peer.send(_error(seq, item))
                else:
                    await self._go(peer, seq, item)
            case StatusRequest(seq=seq):
                await peer.send(reply.status(seq, self.status(), self.capacity))
            case ClearRequest(seq=seq):
                count = await self.coder.clear()
                await peer.send(reply.ok(seq, str(count)))

    async def _go(self, peer: _Peer, seq: int, item: QueuedUnit) -> None:
        await peer.send(PrinterServerConnection.ok(seq, item.unit_ref))
        await self.coder.print_unit(item)


def _error(seq: int, refusal: Refusal) -> bytes:
    return PrinterServerConnection.error(seq, refusal.code, refusal.text)


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
