"""A printer over OPC UA (docs/protocols/printer.md, "OPC UA"), on the shared OPC UA client.

Requests are method calls on the printer object. What the printer reports on its own comes
by subscription: `Reports.Sequence` counts its reports and each one is fetched by number
(`FetchReport`), so none is lost when several fall into one publishing interval, and
`Status.Faults` announces a fault as it happens.

The link is what the subscription says it is. When the client loses the session (or the
subscription goes silent) every subscribed value turns STALE: the driver reports every unit
the printer has not confirmed as REFUSED at once and sends nothing until it has resynchronised.
The first value after that is the printer's state when the subscription was made again, not
news; the resync then clears the printer's queue, re-selects the job and skips every report
numbered before it, so a unit written off can never be confirmed later. The security of the
session is the client's (`drivers.opcua`): it never falls back to less on a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime

from drivers.background import (
    AsyncDevice,
    BackgroundTask,
    raise_if_cancelling,
    wait_until_set,
)
from drivers.base import (
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
    Quality,
    SecurityError,
    TagScalar,
    TagValue,
    UsageError,
)
from drivers.health import HealthTracker
from drivers.opcua.client import OpcUaClient
from drivers.opcua.settings import OpcUaSettings
from drivers.printer import opcua_nodes as nodes
from drivers.printer.outstanding import (
    CONNECTION_LOST,
    Outstanding,
    ReportStream,
    check_item,
    refusal_error,
)

log = logging.getLogger("tracegate.drivers.printer")

BLOCKING_FAULTS = frozenset(
    {PrinterFault.OFFLINE, PrinterFault.INK_OUT, PrinterFault.HEAD, PrinterFault.OTHER}
)
REPORT_QUEUE = 64
"""Changes of `Reports.Sequence` the server keeps between publishes (a gap is fetched anyway)."""


class OpcUaPrinter(AsyncDevice):
    """`drivers.base.Printer` over OPC UA. Use as `async with OpcUaPrinter(settings) as p:`.

    `poll_interval`: how often the heartbeat is written and the status read. With `print_go`,
    each unit is fired by `PrintGo` right after its data (no product-detect sensor).
    """

    kind = "printer"

    def __init__(
        self,
        settings: OpcUaSettings,
        *,
        root: str = nodes.DEFAULT_ROOT,
        print_go: bool = False,
        poll_interval: float = 0.5,
    ) -> None:
        self.name = settings.name
        self._endpoint = settings.endpoint
        self._client = OpcUaClient(settings)
        self._nodes = nodes.PrinterNodes(root)
        self._print_go = print_go
        self._poll_interval = poll_interval
        self._health = HealthTracker(self.name, self.kind)
        self._health.detail("endpoint", settings.endpoint)
        self._health.detail("security", f"{settings.policy.value}/{settings.mode.value}")
        self._book = Outstanding(self.name, self._health)
        self._job: tuple[str, tuple[str, ...]] | None = None
        self._faults: frozenset[PrinterFault] = frozenset()
        self._faults_at: datetime | None = None
        self._status: PrinterStatus | None = None
        self._synced = False
        self._baseline_pending = True
        self._last_seq = 0
        self._heartbeat = 0
        self._exchange = asyncio.Lock()
        self._up = asyncio.Event()
        self._supervisor = BackgroundTask(f"printer {self.name}", self._supervise)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._supervisor.start()

    async def close(self) -> None:
        await self._supervisor.stop()
        await self._client.close()
        self._lost("closed", counted=False)
        self._book.close()

    async def wait_until_up(self, timeout: float) -> None:
        await wait_until_set(
            self._up,
            timeout,
            device=self.name,
            hint=self._health.snapshot().last_error
            or f"is the printer at {self._endpoint} on and reachable?",
        )

    @property
    def security_in_use(self) -> str | None:
        """Policy URI and mode of the live secure channel (None while not connected)."""
        return self._client.security_in_use

    # --- drivers.base.Printer -----------------------------------------------------------------

    async def load_job(self, job: str, fields: Sequence[str]) -> None:
        names = tuple(fields)
        slots = nodes.padded(names)
        async with self._exchange:
            self._require_synced()
            result, text, *_ = await self._request(nodes.SELECT_JOB, [job, *slots])
            if result != nodes.OK:
                raise refusal_error(self.name, f"job {job!r} not selected", result, text)
            self._job = (job, names)
            self._health.detail("job", job)

    async def send(self, item: PrintItem) -> None:
        check_item(self.name, self._job, item)
        values = nodes.padded([item.payload, *item.text_lines])
        async with self._exchange:
            self._require_synced()
            self._book.expect(item)
            try:
                result, text, *_ = await self._request(nodes.PRINT, [item.unit_ref, *values])
            except (DeviceUnavailableError, DeviceTimeoutError, PeerProtocolError) as error:
                raise_if_cancelling()
                self._desync(f"Print of unit {item.unit_ref!r} unanswered: {error}")
                return
            except DriverError:
                self._book.withdraw(item.unit_ref)
                raise
            if result != nodes.OK:
                if item.unit_ref in self._book:
                    self._book.settle(item.unit_ref, PrintOutcome.REFUSED, f"{result}: {text}")
                return
            if self._print_go:
                await self._fire()

    async def _fire(self) -> None:
        """Software print-go; a refusal needs nothing more, the printer NACKs what it drops."""
        try:
            result, text, *_ = await self._request(nodes.PRINT_GO, [])
        except (DeviceUnavailableError, DeviceTimeoutError, PeerProtocolError):
            raise_if_cancelling()
            return
        if result != nodes.OK:
            self._health.error(f"print-go refused: {result}: {text}")

    def reports(self) -> ReportStream:
        return self._book.stream()

    async def status(self) -> PrinterStatus:
        names = [nodes.READY, nodes.JOB, nodes.QUEUED, nodes.FAULTS]
        values = await self._client.read([self._nodes.node(n) for n in names])
        ready, job, queued, faults = (values[self._nodes.node(n)] for n in names)
        parsed = nodes.parse_faults(_text(faults))
        if parsed is None or not isinstance(queued.value, int):
            raise PeerProtocolError(
                f"unreadable status: faults {faults.value!r}, queued {queued.value!r}",
                device=self.name,
                hint="the printer must follow docs/protocols/printer.md (OPC UA)",
            )
        status = PrinterStatus(
            ready=ready.value is True, job=_text(job) or None, faults=parsed, queued=queued.value
        )
        self._status = status
        if self._newer(faults):
            self._apply_faults(parsed)
        return status

    def _newer(self, faults: TagValue) -> bool:
        """Whether `Status.Faults` as read or notified is newer than what the driver holds:
        a subscription's first value can be older than a read made meanwhile."""
        if faults.source_time is None or self._faults_at is None:
            self._faults_at = faults.source_time or self._faults_at
            return True
        if faults.source_time < self._faults_at:
            return False
        self._faults_at = faults.source_time
        return True

    def health(self) -> DeviceHealth:
        details = {"awaiting_confirmation": str(len(self._book))}
        if self._status is not None:
            details["queued"] = str(self._status.queued)
        if self._faults:
            details["faults"] = ",".join(sorted(self._faults))
        return self._health.snapshot(details)

    # --- requests -------------------------------------------------------------------------

    def _require_synced(self) -> None:
        if not self._synced:
            raise DeviceUnavailableError(
                "not connected",
                device=self.name,
                hint=f"the driver reconnects to {self._endpoint} by itself",
            )

    async def _request(self, method: str, args: Sequence[TagScalar]) -> list[str]:
        """Call `method` on the printer; its outputs, the first two being Result and Text."""
        outputs = await self._client.call(self._nodes.root, self._nodes.node(method), args)
        if len(outputs) < 2 or not all(isinstance(o, str | int) for o in outputs):
            raise PeerProtocolError(
                f"{method} answered {outputs!r}, not Result, Text, …",
                device=self.name,
                hint="the printer must follow docs/protocols/printer.md (OPC UA)",
            )
        return [str(o) for o in outputs]

    # --- the link -------------------------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            await self._client.open()
        except SecurityError as error:
            self._health.error(error)
            self._health.set_state(LinkState.DOWN, reason=f"refused: {error.message}")
            return
        poller = asyncio.create_task(self._poll(), name=f"printer {self.name} poll")
        watched = [nodes.REPORT_SEQUENCE, nodes.FAULTS]
        feed = self._client.subscribe(
            [self._nodes.node(n) for n in watched], queue_size=REPORT_QUEUE
        )
        try:
            async for tag, value in feed:
                raise_if_cancelling()
                await self._on_value(tag, value)
        except DriverError as error:
            raise_if_cancelling()
            self._lost(str(error))
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            await feed.aclose()  # type: ignore[attr-defined]

    async def _on_value(self, tag: str, value: TagValue) -> None:
        if value.quality is not Quality.GOOD:
            self._lost(f"link lost ({value.quality.value})")
            return
        if tag == self._nodes.node(nodes.FAULTS):
            faults = nodes.parse_faults(_text(value))
            if faults is not None and self._newer(value):
                self._apply_faults(faults)
            return
        sequence = value.value if isinstance(value.value, int) else 0
        if self._baseline_pending:
            self._baseline_pending = False
            self._last_seq = sequence
            await self._resync()
            return
        await self._fetch_up_to(sequence)

    async def _fetch_up_to(self, sequence: int) -> None:
        while self._last_seq < sequence:
            raise_if_cancelling()
            wanted = self._last_seq + 1
            try:
                outcome, unit_ref, code, text = await self._fetch(wanted)
            except DriverError as error:
                raise_if_cancelling()
                self._last_seq = sequence
                self._desync(f"report {wanted} could not be fetched: {error}")
                await self._resync()
                return
            self._last_seq = wanted
            if outcome == nodes.PRINTED:
                self._book.settle(unit_ref, PrintOutcome.PRINTED, None)
            elif outcome == nodes.NACK:
                self._book.settle(unit_ref, PrintOutcome.REFUSED, f"{code}: {text}")
            else:
                self._desync(f"report {wanted} is gone from the printer ({outcome})")
                await self._resync()
                return
            self._health.good_value()

    async def _fetch(self, sequence: int) -> tuple[str, str, str, str]:
        outputs = await self._client.call(
            self._nodes.root, self._nodes.node(nodes.FETCH_REPORT), [sequence]
        )
        if len(outputs) != 4 or not all(isinstance(o, str) for o in outputs):
            raise PeerProtocolError(
                f"FetchReport answered {outputs!r}, not Outcome, UnitRef, Code, Text",
                device=self.name,
            )
        outcome, unit_ref, code, text = (str(o) for o in outputs)
        return outcome, unit_ref, code, text

    async def _resync(self) -> None:
        """Make the printer's queue and job ours again: clear, re-select, skip old reports."""
        async with self._exchange:
            try:
                await self._request(nodes.CLEAR, [])
                if self._job is not None:
                    job, fields = self._job
                    result, text, *_ = await self._request(
                        nodes.SELECT_JOB, [job, *nodes.padded(fields)]
                    )
                    if result != nodes.OK:
                        self._health.error(refusal_error(self.name, f"job {job!r}", result, text))
                counter = self._nodes.node(nodes.REPORT_SEQUENCE)
                heartbeat = self._nodes.node(nodes.HEARTBEAT)
                read = await self._client.read([counter, heartbeat])
                current, beat = read[counter].value, read[heartbeat].value
                self._last_seq = max(self._last_seq, current if isinstance(current, int) else 0)
                self._heartbeat = beat if isinstance(beat, int) else 0
                await self._beat()
                await self.status()
            except DriverError as error:
                raise_if_cancelling()
                self._health.error(f"resynchronising: {error}")
                self._health.set_state(LinkState.DOWN, reason=f"resynchronising: {error}")
                return
            self._synced = True
            self._up.set()
            self._apply_faults(self._faults)

    def _desync(self, reason: str) -> None:
        """Something may have been lost: write off every unconfirmed unit, resync before more."""
        self._health.error(reason)
        self._synced = False
        self._up.clear()
        self._health.set_state(LinkState.DEGRADED, reason=f"resynchronising: {reason}")
        self._book.write_off(f"{reason}; not printed")

    def _lost(self, reason: str, *, counted: bool = True) -> None:
        """The link is gone (`counted`: as an error; not so when the driver closes it)."""
        if counted and (self._synced or self._health.state is not LinkState.DOWN):
            self._health.error(reason)
        self._synced = False
        self._baseline_pending = True
        self._up.clear()
        self._book.write_off(CONNECTION_LOST)
        self._health.set_state(LinkState.DOWN, reason=reason)

    async def _beat(self) -> None:
        """Move the heartbeat the printer's watchdog watches (from the value it holds, so a new
        session's first beat is a change even where an earlier session stopped)."""
        self._heartbeat = self._heartbeat % 0x7FFFFFFF + 1
        await self._client.write({self._nodes.node(nodes.HEARTBEAT): self._heartbeat})

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            raise_if_cancelling()
            if not self._synced:
                if not self._baseline_pending:
                    await self._resync()
                continue
            try:
                await self._beat()
                await self.status()
            except UsageError as error:
                raise_if_cancelling()
                self._health.error(error)
            except DriverError as error:
                raise_if_cancelling()
                log.debug("printer %s: poll failed: %s", self.name, error)

    def _apply_faults(self, faults: frozenset[PrinterFault]) -> None:
        self._faults = faults
        if not self._synced:
            return
        blocking = faults & BLOCKING_FAULTS
        if blocking:
            reason = "printer faults: " + ",".join(sorted(blocking))
            self._health.set_state(LinkState.DEGRADED, reason=reason)
        else:
            self._health.set_state(LinkState.UP)


def _text(value: TagValue) -> str:
    return value.value if isinstance(value.value, str) else ""
