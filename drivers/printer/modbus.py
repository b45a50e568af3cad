"""A printer on Modbus registers (docs/protocols/printer.md, "Modbus"), on the shared client.

Each request is a handshake: the values go into holding registers, then the command code with
a new sequence number in one write; the printer answers by copying the number into
`command_ack`, with a result code. One read of the input registers shows the status and
fault bits and the oldest report in the printer's mailbox, which the driver acknowledges by
its number to see the next; the driver reads it every `poll_interval_s`, and again at once
while reports wait. The heartbeat register is written every `heartbeat_s`, so the printer can
drop its queue when its controller is gone.

A failed read or write, a command that is not acknowledged in time, or a new boot id (the
printer restarted and lost its queue) means the driver can no longer know what became of the
units it handed over: it reports every unconfirmed unit REFUSED and, once the printer answers
again, resynchronises (CLEAR, SELECT of the job, every waiting report acknowledged unread)
before it sends anything else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
    TagScalar,
    UsageError,
)
from drivers.health import HealthTracker
from drivers.modbus.client import ModbusTagSource
from drivers.modbus.settings import PollSettings, RtuSettings, TcpSettings
from drivers.printer import modbus_map as rmap
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
DEFAULT_POLL = PollSettings(
    request_timeout_s=1.0, poll_interval_s=0.05, breaker_skip_s=0.5, backoff_cap_s=2.0
)
ACK_CHECK_S = 0.002
"""Pause between reads of `command_ack` while a command is carried out."""


@dataclass(frozen=True, slots=True)
class _Inputs:
    """One read of the input registers."""

    status: PrinterStatus
    boot_id: int
    command_ack: int
    command_result: int
    command_value: int
    command_text: str
    report_seq: int
    report_outcome: int
    report_code: int
    report_unit_ref: str


class ModbusPrinter(AsyncDevice):
    """`drivers.base.Printer` on a Modbus TCP or RTU slave; use as `async with ModbusPrinter(…):`.

    The defaults poll every 50 ms, so a report reaches the line about as fast as over TGP/1.
    """

    kind = "printer"

    def __init__(
        self,
        name: str,
        transport: TcpSettings | RtuSettings,
        *,
        slave: int = 1,
        print_go: bool = False,
        poll: PollSettings = DEFAULT_POLL,
        heartbeat_s: float = 0.25,
        watchdog_ms: int = rmap.DEFAULT_WATCHDOG_MS,
    ) -> None:
        self.name = name
        self._where = f"{transport.describe()} slave {slave}"
        self._source = ModbusTagSource(name, transport, rmap.printer_tags(slave), poll)
        self._poll = poll
        self._print_go = print_go
        self._heartbeat_s = heartbeat_s
        self._watchdog_ms = watchdog_ms
        self._health = HealthTracker(name, self.kind)
        self._health.detail("endpoint", self._where)
        self._book = Outstanding(name, self._health)
        self._job: tuple[str, tuple[str, ...]] | None = None
        self._faults: frozenset[PrinterFault] = frozenset()
        self._status: PrinterStatus | None = None
        self._boot_id: int | None = None
        self._sequence = 0
        self._taken = 0
        self._heartbeat = 0
        self._beat_at = 0.0
        self._synced = False
        self._exchange = asyncio.Lock()
        self._up = asyncio.Event()
        self._supervisor = BackgroundTask(f"printer {name}", self._supervise)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._supervisor.start()

    async def close(self) -> None:
        await self._supervisor.stop()
        await self._source.close()
        self._lost("closed", counted=False)
        self._book.close()

    async def wait_until_up(self, timeout: float) -> None:
        await wait_until_set(
            self._up,
            timeout,
            device=self.name,
            hint=self._health.snapshot().last_error
            or f"is the printer at {self._where} on and reachable?",
        )

    # --- drivers.base.Printer -----------------------------------------------------------------

    async def load_job(self, job: str, fields: Sequence[str]) -> None:
        names = tuple(fields)
        values = self._select_values(job, names)
        async with self._exchange:
            self._require_synced()
            reply = await self._command(rmap.Command.SELECT, values)
            if reply.command_result:
                code = rmap.error_of(reply.command_result)
                raise refusal_error(
                    self.name, f"job {job!r} not selected", code, reply.command_text
                )
            self._job = (job, names)
            self._health.detail("job", job)

    async def send(self, item: PrintItem) -> None:
        check_item(self.name, self._job, item)
        values: dict[str, TagScalar] = {
            rmap.UNIT_REF: rmap.encode_text(item.unit_ref, rmap.UNIT_REF_CHARS, "unit reference"),
            rmap.VALUE_COUNT: 1 + len(item.text_lines),
        }
        for index, text in enumerate((item.payload, *item.text_lines)):
            values[rmap.field_tag(index)] = rmap.encode_text(text, rmap.FIELD_CHARS, "field value")
        async with self._exchange:
            self._require_synced()
            self._book.expect(item)
            try:
                reply = await self._command(rmap.Command.DATA, values)
            except (DeviceUnavailableError, DeviceTimeoutError, PeerProtocolError) as error:
                raise_if_cancelling()
                self._desync(f"data of unit {item.unit_ref!r} unconfirmed: {error}")
                return
            except DriverError:
                self._book.withdraw(item.unit_ref)
                raise
            if reply.command_result:
                code = rmap.error_of(reply.command_result)
                if item.unit_ref in self._book:
                    reason = f"{code}: {reply.command_text}"
                    self._book.settle(item.unit_ref, PrintOutcome.REFUSED, reason)
                return
            if self._print_go:
                await self._fire()

    async def _fire(self) -> None:
        """Software print-go; a refusal needs nothing more, the printer NACKs what it drops."""
        try:
            reply = await self._command(rmap.Command.GO, {})
        except (DeviceUnavailableError, DeviceTimeoutError, PeerProtocolError):
            raise_if_cancelling()
            return
        if reply.command_result:
            code = rmap.error_of(reply.command_result)
            self._health.error(f"print-go refused: {code}: {reply.command_text}")

    def reports(self) -> ReportStream:
        return self._book.stream()

    async def status(self) -> PrinterStatus:
        inputs = await self._read_inputs()
        self._show(inputs.status)
        return inputs.status

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
                hint=f"the driver reconnects to {self._where} by itself",
            )

    def _select_values(self, job: str, names: tuple[str, ...]) -> dict[str, TagScalar]:
        if not 1 <= len(names) <= rmap.MAX_FIELDS:
            raise UsageError(
                f"job {job!r} has {len(names)} fields; a printer message has 1-{rmap.MAX_FIELDS}",
                device=self.name,
            )
        values: dict[str, TagScalar] = {
            rmap.JOB: rmap.encode_text(job, rmap.JOB_CHARS, "job name"),
            rmap.VALUE_COUNT: len(names),
        }
        for index, field in enumerate(names):
            values[rmap.field_tag(index)] = rmap.encode_text(field, rmap.FIELD_CHARS, "field")
        return values

    async def _command(self, command: rmap.Command, values: Mapping[str, TagScalar]) -> _Inputs:
        """Write `values`, then the command; the input registers once it is acknowledged."""
        self._sequence = rmap.next_sequence(self._sequence)
        sequence = self._sequence
        await self._source.write({**values, rmap.COMMAND: rmap.command_word(command, sequence)})
        deadline = time.monotonic() + self._poll.request_timeout_s
        while True:
            inputs = await self._read_inputs()
            if inputs.command_ack == sequence:
                return inputs
            if time.monotonic() > deadline:
                raise DeviceTimeoutError(
                    f"{command.name} (sequence {sequence}) not acknowledged within "
                    f"{self._poll.request_timeout_s:g} s",
                    device=self.name,
                    hint="check that the printer follows docs/protocols/printer.md (Modbus)",
                )
            await asyncio.sleep(ACK_CHECK_S)

    async def _read_inputs(self) -> _Inputs:
        values = await self._source.read(list(rmap.INPUTS))
        bad = [name for name, value in values.items() if value.quality is not Quality.GOOD]
        if bad:
            raise DeviceUnavailableError(
                f"the printer did not answer the read of {', '.join(bad[:3])}", device=self.name
            )

        def number(name: str) -> int:
            value = values[name].value
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        def text(name: str) -> str:
            value = values[name].value
            try:
                return rmap.decode_text(value) if isinstance(value, str) else ""
            except ValueError as error:
                raise PeerProtocolError(
                    f"register text {name} unreadable: {error}", device=self.name
                ) from None

        word = number(rmap.STATUS)
        status = PrinterStatus(
            ready=bool(word >> rmap.READY_BIT & 1),
            job=text(rmap.SELECTED_JOB) or None,
            faults=rmap.faults_of(word),
            queued=number(rmap.QUEUED),
        )
        return _Inputs(
            status=status,
            boot_id=number(rmap.BOOT_ID),
            command_ack=number(rmap.COMMAND_ACK),
            command_result=number(rmap.COMMAND_RESULT),
            command_value=number(rmap.COMMAND_VALUE),
            command_text=text(rmap.COMMAND_TEXT),
            report_seq=number(rmap.REPORT_SEQ),
            report_outcome=number(rmap.REPORT_OUTCOME),
            report_code=number(rmap.REPORT_CODE),
            report_unit_ref=text(rmap.REPORT_UNIT_REF),
        )

    # --- the link -------------------------------------------------------------------------

    async def _supervise(self) -> None:
        await self._source.start()
        while True:
            raise_if_cancelling()
            try:
                await self._source.wait_connected(self._poll.request_timeout_s)
                await self._resync()
                await self._watch()
            except DriverError as error:
                raise_if_cancelling()
                self._lost(str(error))
                await asyncio.sleep(self._poll.poll_interval_s)

    async def _resync(self) -> None:
        """Make the printer's queue and job ours again and empty its mailbox unread."""
        async with self._exchange:
            await self._source.write({rmap.WATCHDOG_MS: self._watchdog_ms})
            inputs = await self._command(rmap.Command.CLEAR, {})
            if self._job is not None:
                job, fields = self._job
                inputs = await self._command(rmap.Command.SELECT, self._select_values(job, fields))
                if inputs.command_result:
                    code = rmap.error_of(inputs.command_result)
                    self._health.error(
                        refusal_error(self.name, f"job {job!r}", code, inputs.command_text)
                    )
            while inputs.report_seq:
                await self._source.write({rmap.REPORT_ACK: inputs.report_seq})
                inputs = await self._read_inputs()
            self._taken = 0
            self._boot_id = inputs.boot_id
            self._health.detail("boot_id", str(inputs.boot_id))
            self._synced = True
            self._up.set()
            self._show(inputs.status)

    async def _watch(self) -> None:
        """Read the printer until the link fails (an error) or a send lost track (a return):
        status, faults and the report mailbox."""
        while self._synced:
            raise_if_cancelling()
            inputs = await self._read_inputs()
            if inputs.boot_id != self._boot_id:
                self._desync(
                    f"the printer restarted (boot id {self._boot_id} -> {inputs.boot_id}) "
                    "and lost its queue"
                )
                return
            self._show(inputs.status)
            if inputs.report_seq:
                self._take(inputs)
                await self._source.write({rmap.REPORT_ACK: inputs.report_seq})
                continue
            await self._beat()
            await asyncio.sleep(self._poll.poll_interval_s)

    def _take(self, inputs: _Inputs) -> None:
        if inputs.report_seq == self._taken:
            return
        self._taken = inputs.report_seq
        self._health.good_value()
        unit_ref = inputs.report_unit_ref
        if inputs.report_outcome == rmap.Outcome.PRINTED:
            self._book.settle(unit_ref, PrintOutcome.PRINTED, None)
        elif inputs.report_outcome == rmap.Outcome.NACK:
            reason = f"{rmap.nack_of(inputs.report_code)}: not printed"
            self._book.settle(unit_ref, PrintOutcome.REFUSED, reason)
        else:
            self._health.error(f"report {inputs.report_seq} has outcome {inputs.report_outcome}")

    async def _beat(self) -> None:
        now = time.monotonic()
        if now - self._beat_at < self._heartbeat_s:
            return
        self._beat_at = now
        self._heartbeat = rmap.next_sequence(self._heartbeat)
        await self._source.write({rmap.HEARTBEAT: self._heartbeat})

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
        self._up.clear()
        self._book.write_off(CONNECTION_LOST)
        self._health.set_state(LinkState.DOWN, reason=reason)

    def _show(self, status: PrinterStatus) -> None:
        self._status = status
        self._faults = status.faults
        if not self._synced:
            return
        blocking = status.faults & BLOCKING_FAULTS
        if blocking:
            reason = "printer faults: " + ",".join(sorted(blocking))
            self._health.set_state(LinkState.DEGRADED, reason=reason)
        else:
            self._health.set_state(LinkState.UP)
