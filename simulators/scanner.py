"""A handheld scanner that "scans" given strings, over TCP or a pseudo-terminal.

`TcpScannerSimulator` is a base station every connected client hears; `PtyScannerSimulator` is
a serial scanner on a pseudo-terminal whose `device` path a `SerialScanner` opens. Each scan is
the text, UTF-8, followed by the suffix — symbology identifier and GS bytes exactly as given.
Run alone: `python -m simulators.scanner --port 9200` (or `--pty`), then type one scan per line;
`<GS>` stands for the GS byte.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tty
from collections.abc import Sequence
from types import TracebackType

from simulators.faults import (
    FaultInjector,
    FaultyWriter,
    add_fault_arguments,
    faults_from_arguments,
    shut_down,
)
from simulators.serving import AsyncServer

DEFAULT_SUFFIX = b"\r\n"


def scan_bytes(text: str, suffix: bytes = DEFAULT_SUFFIX) -> bytes:
    return text.encode("utf-8") + suffix


class TcpScannerSimulator(AsyncServer):
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        suffix: bytes = DEFAULT_SUFFIX,
        injector: FaultInjector | None = None,
    ) -> None:
        self.host, self.port, self.suffix = host, port, suffix
        self.injector = injector or FaultInjector()
        self._server: asyncio.Server | None = None
        self._clients: set[FaultyWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._connected = asyncio.Condition()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        server, self._server = self._server, None
        await shut_down(server, self.injector, self._handlers)

    @property
    def clients(self) -> int:
        return len(self._clients)

    async def wait_for_client(self, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._connected:
            await self._connected.wait_for(lambda: bool(self._clients))

    async def scan(self, text: str) -> int:
        """Send one scan to every connected client; returns how many heard it."""
        return await self.send_raw(scan_bytes(text, self.suffix))

    async def send_raw(self, data: bytes) -> int:
        sent = 0
        for client in list(self._clients):
            with contextlib.suppress(ConnectionError, OSError):
                await client.write(data)
                sent += 1
        return sent

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        client = self.injector.wrap(writer)
        async with self._connected:
            self._clients.add(client)
            self._connected.notify_all()
        try:
            while await reader.read(4096):
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self._clients.discard(client)
            self._handlers.discard(task)
            await client.close()


class PtyScannerSimulator:
    """A serial scanner on a pseudo-terminal pair; open `device` with a SerialScanner."""

    def __init__(self, *, suffix: bytes = DEFAULT_SUFFIX) -> None:
        self.suffix = suffix
        self._master: int | None = None
        self._slave: int | None = None
        self.device = ""

    def open(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)

    def close(self) -> None:
        """Close both ends; the driver's reads fail as they do when a scanner is unplugged."""
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def __enter__(self) -> PtyScannerSimulator:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def scan(self, text: str) -> None:
        self.send_raw(scan_bytes(text, self.suffix))

    def send_raw(self, data: bytes) -> None:
        if self._master is None:
            raise RuntimeError("the pseudo-terminal is not open; call open() first")
        view = memoryview(data)
        while view:
            view = view[os.write(self._master, view) :]


# --- command line ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.scanner",
        description="A simulated handheld scanner; type one scan per line (<GS> for 0x1D).",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--port", type=int, default=9200, help="serve scans over TCP")
    where.add_argument("--pty", action="store_true", help="a serial scanner on a pseudo-terminal")
    parser.add_argument("--host", default="127.0.0.1")
    add_fault_arguments(parser)
    return parser


async def _lines() -> asyncio.Queue[str | None]:
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n").replace("<GS>", "\x1d"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    loop.run_in_executor(None, pump)
    return queue


async def _run(args: argparse.Namespace) -> None:
    lines = await _lines()
    if args.pty:
        with PtyScannerSimulator() as pty:
            print(f"scanner simulator on {pty.device}", flush=True)
            while (text := await lines.get()) is not None:
                pty.scan(text)
        return
    injector = FaultInjector(faults_from_arguments(args))
    async with TcpScannerSimulator(host=args.host, port=args.port, injector=injector) as sim:
        print(f"scanner simulator listening on {sim.host}:{sim.port}", flush=True)
        while (text := await lines.get()) is not None:
            print(f"sent to {await sim.scan(text)} client(s)", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(_run(args))
    except OSError as error:
        print(f"error: cannot serve scans: {error}", file=sys.stderr)
        print("fix: choose a free --port, or use --pty", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
