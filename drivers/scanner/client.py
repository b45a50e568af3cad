"""Handheld scanners over TCP (a network base station) or a serial port (RS-232 / USB CDC).

Both reconnect by themselves with capped backoff. A scanner never answers anything, so a dead
TCP peer is noticed through the connection closing (and TCP keepalive on Linux); a serial port
through the read failing, as it does when a USB scanner is unplugged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from abc import ABC, abstractmethod
from datetime import UTC, datetime

import serial

from drivers.background import AsyncDevice, BackgroundTask, wait_until_set
from drivers.backoff import Backoff
from drivers.base import DeviceHealth, LinkState, ScanEvent
from drivers.health import HealthTracker
from drivers.scanner.protocol import DEFAULT_MAX_LENGTH, ScanData, ScanDecoder

log = logging.getLogger("tracegate.drivers.scanner")


class _ScanStream:
    def __init__(self, queue: asyncio.Queue[ScanEvent | None]) -> None:
        self._queue = queue

    def __aiter__(self) -> _ScanStream:
        return self

    async def __anext__(self) -> ScanEvent:
        scan = await self._queue.get()
        if scan is None:
            self._queue.put_nowait(None)
            raise StopAsyncIteration
        return scan


class _ByteSource(ABC):
    @abstractmethod
    async def read(self) -> bytes:
        """Some bytes; b"" at end of stream; raises OSError when the link fails."""

    @abstractmethod
    async def close(self) -> None: ...


class _ScannerBase(AsyncDevice):
    """`drivers.base.Scanner`: the reconnect loop and the decoding, whatever the transport."""

    kind = "scanner"

    def __init__(
        self,
        name: str,
        *,
        suffix: bytes | None,
        encoding: str,
        max_length: int,
        backoff: Backoff | None,
    ) -> None:
        self.name = name
        self._decoder_args = (suffix, max_length, encoding)
        ScanDecoder(suffix, max_length=max_length, encoding=encoding)
        self._backoff = backoff or Backoff(initial=0.1, cap=2.0)
        self._health = HealthTracker(name, self.kind)
        self._scans: asyncio.Queue[ScanEvent | None] = asyncio.Queue()
        self._up = asyncio.Event()
        self._task = BackgroundTask(f"scanner {name}", self._supervise)

    @property
    @abstractmethod
    def address(self) -> str: ...

    @abstractmethod
    async def _open(self) -> _ByteSource: ...

    def start(self) -> None:
        self._task.start()

    async def close(self) -> None:
        await self._task.stop()
        self._scans.put_nowait(None)

    async def wait_until_up(self, timeout: float) -> None:
        await wait_until_set(
            self._up,
            timeout,
            device=self.name,
            hint=f"is the scanner at {self.address} connected?",
        )

    def scans(self) -> _ScanStream:
        return _ScanStream(self._scans)

    def health(self) -> DeviceHealth:
        return self._health.snapshot({"address": self.address})

    async def _supervise(self) -> None:
        while True:
            try:
                source = await self._open()
            except (OSError, TimeoutError, serial.SerialException) as error:
                self._down(f"cannot open {self.address}: {error or 'timeout'}")
            else:
                try:
                    await self._pump(source)
                finally:
                    self._up.clear()
                    await source.close()
            await asyncio.sleep(self._backoff.next_delay())

    async def _pump(self, source: _ByteSource) -> None:
        suffix, max_length, encoding = self._decoder_args
        decoder = ScanDecoder(suffix, max_length=max_length, encoding=encoding)
        self._health.set_state(LinkState.UP)
        self._backoff.reset()
        self._up.set()
        while True:
            try:
                data = await source.read()
            except OSError as error:
                self._down(f"link to {self.address} lost: {error}")
                return
            for event in decoder.feed(data) if data else decoder.close():
                if isinstance(event, ScanData):
                    self._health.good_value()
                    self._scans.put_nowait(ScanEvent(event.text, datetime.now(UTC)))
                else:
                    self._health.error(f"scanner sent garbage: {event.message}")
                    log.warning("scanner %s: %s: %r", self.name, event.message, event.data[:80])
            if not data:
                self._down(f"{self.address} closed the connection")
                return

    def _down(self, reason: str) -> None:
        self._health.error(reason)
        self._health.set_state(LinkState.DOWN, reason=reason)


class _StreamSource(_ByteSource):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    async def read(self) -> bytes:
        return await self._reader.read(65536)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self._writer.wait_closed()


class TcpScanner(_ScannerBase):
    """A scanner behind a TCP base station or serial-to-Ethernet converter (client role)."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        *,
        suffix: bytes | None = None,
        encoding: str = "utf-8",
        max_length: int = DEFAULT_MAX_LENGTH,
        connect_timeout: float = 2.0,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(
            name, suffix=suffix, encoding=encoding, max_length=max_length, backoff=backoff
        )
        self._host, self._port = host, port
        self._connect_timeout = connect_timeout

    @property
    def address(self) -> str:
        return f"{self._host}:{self._port}"

    async def _open(self) -> _ByteSource:
        async with asyncio.timeout(self._connect_timeout):
            reader, writer = await asyncio.open_connection(self._host, self._port)
        sock = writer.get_extra_info("socket")
        if sock is not None and hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 2)
        return _StreamSource(reader, writer)


class _SerialSource(_ByteSource):
    """Reads the port's file descriptor from the event loop; pyserial only opens and sets it up."""

    def __init__(self, port: serial.Serial) -> None:
        self._port = port
        self._fd: int = port.fileno()
        self._loop = asyncio.get_running_loop()
        self._readable = asyncio.Event()
        self._loop.add_reader(self._fd, self._readable.set)

    async def read(self) -> bytes:
        while True:
            await self._readable.wait()
            self._readable.clear()
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                raise OSError("the serial device returned no data (disconnected?)")
            return data

    async def close(self) -> None:
        self._loop.remove_reader(self._fd)
        self._port.close()


class SerialScanner(_ScannerBase):
    """A scanner on a serial port (`/dev/ttyUSB0`, `/dev/ttyACM0`, a pseudo-terminal)."""

    def __init__(
        self,
        name: str,
        device: str,
        *,
        baudrate: int = 9600,
        suffix: bytes | None = None,
        encoding: str = "utf-8",
        max_length: int = DEFAULT_MAX_LENGTH,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(
            name, suffix=suffix, encoding=encoding, max_length=max_length, backoff=backoff
        )
        self._device = device
        self._baudrate = baudrate

    @property
    def address(self) -> str:
        return self._device

    async def _open(self) -> _ByteSource:
        port = serial.Serial(self._device, baudrate=self._baudrate, timeout=0)
        try:
            return _SerialSource(port)
        except BaseException:
            port.close()
            raise
