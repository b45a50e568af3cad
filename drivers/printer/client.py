"""The TGP printer over TCP: one connection, one request in flight, reconnect with backoff.

Every item `send` hands to the printer gets exactly one `PrintReport`: PRINTED or REFUSED from
the printer, or REFUSED by this driver when the connection is lost before the printer confirmed
it (the protocol makes the printer discard its queue when the connection drops, so those units
are not printed). `send` raises only when the item never reached the printer.

Garbage from the printer resets the connection: a confirmation may have been lost in it, and
only a reset (which empties the printer's queue) makes "unconfirmed" mean "not printed" again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from drivers.background import AsyncDevice, BackgroundTask, wait_until_set
from drivers.backoff import Backoff
from drivers.base import (
    DeviceFaultError,
    DeviceHealth,
    DeviceTimeoutError,
    DeviceUnavailableError,
    DriverError,
    LinkState,
    PeerProtocolError,
    PrinterFault,
    PrinterStatus,
    PrintItem,
    PrintOutcome,
    PrintReport,
    UsageError,
)
from drivers.health import HealthTracker
from drivers.printer.protocol import (
    ClientEvent,
    ClientState,
    ErrorCode,
    FaultEvent,
    HelloAccepted,
    LocalProtocolError,
    PrintedAck,
    PrinterClientConnection,
    PrintNack,
    ProtocolErrorEvent,
    RequestAccepted,
    RequestRefused,
    StatusReply,
)

log = logging.getLogger("tracegate.drivers.printer")

_BLOCKING_FAULTS = frozenset(
    {PrinterFault.OFFLINE, PrinterFault.INK_OUT, PrinterFault.HEAD, PrinterFault.OTHER}
)
_USAGE_CODES = frozenset({ErrorCode.UNKNOWN_JOB, ErrorCode.FIELDS, ErrorCode.ARGS})
_Reply = HelloAccepted | RequestAccepted | RequestRefused | StatusReply


class _Link:
    """One TCP connection and what is pending on it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.protocol = PrinterClientConnection()
        self.lock = asyncio.Lock()
        self.pending: asyncio.Future[_Reply] | None = None
        self.outstanding: dict[str, PrintItem] = {}
        self.closed = False

    def abort(self) -> None:
        self.closed = True
        self.writer.transport.abort()

    @property
    def usable(self) -> bool:
        return not self.closed and self.protocol.state is not ClientState.CLOSED


class _ReportStream:
    def __init__(self, queue: asyncio.Queue[PrintReport | None]) -> None:
        self._queue = queue

    def __aiter__(self) -> _ReportStream:
        return self

    async def __anext__(self) -> PrintReport:
        report = await self._queue.get()
        if report is None:
            self._queue.put_nowait(None)
            raise StopAsyncIteration
        return report


class TcpPrinter(AsyncDevice):
    """`drivers.base.Printer` over TGP/1 (docs/protocols/printer.md).

    Use as `async with TcpPrinter(...) as printer:`; the connection is kept in the background.
    A silent printer is noticed by the status poll: `poll_interval + request_timeout` seconds.
    With `print_go`, each unit is fired by a software print-go right after its data, for
    printers without a product-detect sensor.
    """

    kind = "printer"

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        *,
        request_timeout: float = 1.0,
        poll_interval: float = 0.5,
        connect_timeout: float = 2.0,
        backoff: Backoff | None = None,
        print_go: bool = False,
    ) -> None:
        self.name = name
        self._host, self._port = host, port
        self._print_go = print_go
        self._request_timeout = request_timeout
        self._poll_interval = poll_interval
        self._connect_timeout = connect_timeout
        self._backoff = backoff or Backoff(initial=0.1, cap=2.0)
        self._health = HealthTracker(name, self.kind)
        self._reports: asyncio.Queue[PrintReport | None] = asyncio.Queue()
        self._job: tuple[str, tuple[str, ...]] | None = None
        self._link: _Link | None = None
        self._up = asyncio.Event()
        self._status: PrinterStatus | None = None
        self._faults: frozenset[PrinterFault] = frozenset()
        self._supervisor = BackgroundTask(f"printer {name}", self._supervise)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._supervisor.start()

    async def close(self) -> None:
        await self._supervisor.stop()
        self._reports.put_nowait(None)

    async def wait_until_up(self, timeout: float) -> None:
        await wait_until_set(
            self._up,
            timeout,
            device=self.name,
            hint=f"is the printer at {self._host}:{self._port} on and reachable?",
        )

    # --- drivers.base.Printer -----------------------------------------------------------------

    async def load_job(self, job: str, fields: Sequence[str]) -> None:
        link = self._require_link()
        reply = await self._request(link, lambda p: p.send_select(job, fields))
        if isinstance(reply, RequestRefused):
            raise self._refusal(f"job {job!r} not selected", reply)
        self._job = (job, tuple(fields))
        self._health.detail("job", job)

    async def send(self, item: PrintItem) -> None:
        link = self._require_link()
        if self._job is None:
            raise UsageError("no job loaded", device=self.name, hint="call load_job first")
        job, fields = self._job
        if 1 + len(item.text_lines) != len(fields):
            raise UsageError(
                f"unit {item.unit_ref!r} has {1 + len(item.text_lines)} values, job {job!r} "
                f"has {len(fields)} fields ({', '.join(fields)})",
                device=self.name,
                hint="send the payload plus one text line per remaining field",
            )
        if item.unit_ref in link.outstanding:
            raise UsageError(f"unit {item.unit_ref!r} is already queued", device=self.name)

        handed_over = False

        def build(protocol: PrinterClientConnection) -> bytes:
            nonlocal handed_over
            frame = protocol.send_data(item.unit_ref, item.payload, item.text_lines)
            link.outstanding[item.unit_ref] = item
            handed_over = True
            return frame

        try:
            reply = await self._request(link, build)
        except (DeviceUnavailableError, DeviceTimeoutError):
            if handed_over:
                return
            raise
        if isinstance(reply, RequestRefused):
            if link.outstanding.pop(item.unit_ref, None) is not None:
                self._report(item.unit_ref, PrintOutcome.REFUSED, f"{reply.code}: {reply.text}")
        elif self._print_go:
            await self._fire(link)

    async def _fire(self, link: _Link) -> None:
        """Software print-go; a refusal needs nothing more, the printer NACKs what it drops."""
        with contextlib.suppress(DeviceUnavailableError, DeviceTimeoutError):
            reply = await self._request(link, lambda p: p.send_go())
            if isinstance(reply, RequestRefused):
                self._health.error(f"print-go refused: {reply.code}: {reply.text}")

    def reports(self) -> _ReportStream:
        return _ReportStream(self._reports)

    async def status(self) -> PrinterStatus:
        return await self._query_status(self._require_link())

    def health(self) -> DeviceHealth:
        link = self._link
        details = {"address": f"{self._host}:{self._port}"}
        if self._status is not None:
            details["queued"] = str(self._status.queued)
        if self._faults:
            details["faults"] = ",".join(sorted(self._faults))
        if link is not None:
            details["awaiting_confirmation"] = str(len(link.outstanding))
        return self._health.snapshot(details)

    # --- requests -------------------------------------------------------------------------

    def _require_link(self) -> _Link:
        link = self._link
        if link is None or not link.usable:
            raise DeviceUnavailableError(
                "not connected",
                device=self.name,
                hint=f"the driver reconnects to {self._host}:{self._port} by itself",
            )
        return link

    async def _request(
        self, link: _Link, build: Callable[[PrinterClientConnection], bytes]
    ) -> _Reply:
        async with link.lock:
            if not link.usable:
                raise DeviceUnavailableError("connection lost", device=self.name)
            try:
                frame = build(link.protocol)
            except LocalProtocolError as error:
                raise UsageError(str(error), device=self.name) from None
            future: asyncio.Future[_Reply] = asyncio.get_running_loop().create_future()
            link.pending = future
            verb = link.protocol.in_flight
            try:
                async with asyncio.timeout(self._request_timeout):
                    link.writer.write(frame)
                    await link.writer.drain()
                    return await future
            except TimeoutError:
                link.abort()
                raise DeviceTimeoutError(
                    f"no reply to {verb} within {self._request_timeout} s",
                    device=self.name,
                    hint="the connection is reset; check the printer's network",
                ) from None
            except (OSError, ConnectionError) as error:
                link.abort()
                raise DeviceUnavailableError(f"write failed: {error}", device=self.name) from None
            finally:
                link.pending = None

    async def _query_status(self, link: _Link) -> PrinterStatus:
        reply = await self._request(link, lambda p: p.send_status())
        if not isinstance(reply, StatusReply):
            raise PeerProtocolError(f"unexpected answer to STATUS: {reply}", device=self.name)
        self._status = reply.status
        self._apply_faults(reply.status.faults)
        return reply.status

    def _refusal(self, what: str, reply: RequestRefused) -> DriverError:
        message = f"{what}: printer says {reply.code}: {reply.text}"
        if reply.code in _USAGE_CODES:
            return UsageError(message, device=self.name, hint="check the job and its field names")
        return DeviceFaultError(message, device=self.name)

    # --- connection -----------------------------------------------------------------------

    async def _supervise(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._connect_timeout):
                    reader, writer = await asyncio.open_connection(self._host, self._port)
            except (OSError, TimeoutError) as error:
                self._link_down(
                    f"cannot connect to {self._host}:{self._port}: {error or 'timeout'}"
                )
            else:
                try:
                    await self._session(reader, writer)
                except DriverError as error:
                    self._link_down(str(error))
            await asyncio.sleep(self._backoff.next_delay())

    def _link_down(self, reason: str) -> None:
        self._health.error(reason)
        self._health.set_state(LinkState.DOWN, reason=reason)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = _Link(writer)
        tasks = [
            asyncio.create_task(self._read(link, reader)),
            asyncio.create_task(self._open_and_poll(link)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            self._teardown(link)
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()

    async def _open_and_poll(self, link: _Link) -> None:
        hello = await self._request(link, lambda p: p.send_hello())
        if not isinstance(hello, HelloAccepted):
            raise PeerProtocolError(
                f"printer refused the HELLO: {hello}",
                device=self.name,
                hint="the printer must speak TGP/1 (docs/protocols/printer.md)",
            )
        self._health.detail("model", hello.model)
        if self._job is not None:
            job, fields = self._job
            reply = await self._request(link, lambda p: p.send_select(job, fields))
            if isinstance(reply, RequestRefused):
                self._health.error(self._refusal(f"job {job!r} not re-selected", reply))
        self._link = link
        self._backoff.reset()
        await self._query_status(link)
        self._up.set()
        while True:
            await asyncio.sleep(self._poll_interval)
            await self._query_status(link)

    async def _read(self, link: _Link, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                data = await reader.read(65536)
            except OSError as error:
                self._lost(link)
                raise DeviceUnavailableError(
                    f"connection lost: {error}", device=self.name
                ) from None
            if not data:
                self._lost(link)
            events = link.protocol.receive_data(data) if data else link.protocol.receive_eof()
            for event in events:
                self._dispatch(link, event)
            if not data:
                raise DeviceUnavailableError("the printer closed the connection", device=self.name)
            garbage = next((e for e in events if isinstance(e, ProtocolErrorEvent)), None)
            if garbage is not None:
                raise PeerProtocolError(
                    f"the printer sent garbage ({garbage.message}); connection reset",
                    device=self.name,
                    hint="a confirmation may have been lost with it, so unconfirmed units "
                    "are reported as not printed",
                )

    def _dispatch(self, link: _Link, event: ClientEvent) -> None:
        match event:
            case HelloAccepted() | RequestAccepted() | RequestRefused() | StatusReply():
                self._health.good_value()
                if link.pending is not None and not link.pending.done():
                    link.pending.set_result(event)
            case PrintedAck(unit_ref=ref):
                self._health.good_value()
                self._settle(link, ref, PrintOutcome.PRINTED, None)
            case PrintNack(unit_ref=ref, code=code, reason=reason):
                self._health.good_value()
                self._settle(link, ref, PrintOutcome.REFUSED, f"{code}: {reason}")
            case FaultEvent(faults=faults):
                self._apply_faults(faults)
            case ProtocolErrorEvent(message=message, data=data):
                log.warning("printer %s: %s: %r", self.name, message, data[:80])

    def _settle(
        self, link: _Link, unit_ref: str, outcome: PrintOutcome, reason: str | None
    ) -> None:
        if link.outstanding.pop(unit_ref, None) is None:
            self._health.error(f"{outcome.value} report for unit {unit_ref!r} not awaiting one")
            return
        self._report(unit_ref, outcome, reason)

    def _report(self, unit_ref: str, outcome: PrintOutcome, reason: str | None) -> None:
        self._reports.put_nowait(PrintReport(unit_ref, outcome, reason, datetime.now(UTC)))

    def _apply_faults(self, faults: frozenset[PrinterFault]) -> None:
        self._faults = faults
        if self._link is None:
            return
        blocking = faults & _BLOCKING_FAULTS
        if blocking:
            reason = "printer faults: " + ",".join(sorted(blocking))
            self._health.set_state(LinkState.DEGRADED, reason=reason)
        else:
            self._health.set_state(LinkState.UP)

    def _lost(self, link: _Link) -> None:
        link.closed = True
        if self._link is link:
            self._link = None
        self._up.clear()

    def _teardown(self, link: _Link) -> None:
        """Everything that must happen when a connection ends, without awaiting anything.

        It runs before the session's tasks are awaited, so a close() arriving meanwhile cannot
        skip it: the socket is closed and every unconfirmed unit reported whatever happens next.
        """
        self._lost(link)
        if link.pending is not None and not link.pending.done():
            link.pending.set_exception(DeviceUnavailableError("connection lost", device=self.name))
        link.writer.close()
        lost = list(link.outstanding)
        link.outstanding.clear()
        for unit_ref in lost:
            self._report(
                unit_ref,
                PrintOutcome.REFUSED,
                "connection lost before the printer confirmed the print; not printed",
            )
        self._health.set_state(LinkState.DOWN, reason="connection closed")
