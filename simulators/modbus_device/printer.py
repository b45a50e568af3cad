"""A coder on Modbus TCP, with the register map of docs/protocols/printer.md (Modbus).

The register-map server is `ModbusDeviceSimulator`; the coder is the same
`simulators.coder.Coder` as the TGP/1 and OPC UA printers. A write of a new command sequence
number carries the command out before the write is answered, so the controller's next read
already sees `command_ack`. Reports wait in the mailbox, oldest first, until acknowledged;
while as many as the queue's capacity wait, new data is refused BUFFER_FULL. The boot id is
new at every start, so a controller can tell a printer that restarted (and lost its queue).
When the heartbeat register stops changing for `watchdog_ms`, the queue is dropped with NACK
CLEARED.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from drivers.base import PrinterFault, TagScalar
from drivers.modbus.tagmap import Table
from drivers.printer import modbus_map as rmap
from drivers.printer.protocol import ErrorCode, NackCode
from simulators.coder import (
    Coder,
    CoderFront,
    CoderReport,
    PrintedUnit,
    PrintFaults,
    Refusal,
    Watchdog,
)
from simulators.modbus_device.points import Point
from simulators.modbus_device.server import ModbusDeviceSimulator
from simulators.serving import AsyncServer

_COMMAND_SEQUENCE = rmap.address(rmap.COMMAND) + 1
_REPORT_ACK = rmap.address(rmap.REPORT_ACK)


class ModbusPrinterSimulator(CoderFront, AsyncServer):
    """A printer as Modbus slave `slave` on `host:port` (port 0 picks a free one)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        slave: int = 1,
        jobs: Mapping[str, Sequence[str]] | None = None,
        capacity: int = 64,
        print_interval: float | None = 0.01,
        print_faults: PrintFaults | None = None,
        on_print: Callable[[PrintedUnit], None] | None = None,
        seed: int | None = None,
        model: str = "tracegate-sim",
        scan_s: float = 0.05,
    ) -> None:
        self.host, self.port, self.slave = host, port, slave
        self.coder = Coder(
            jobs=jobs,
            capacity=capacity,
            print_interval=print_interval,
            print_faults=print_faults,
            on_print=on_print,
            seed=seed,
            model=model,
        )
        self.coder.listener = self
        self.boot_id = secrets.randbelow(0xFFFF) + 1
        self.registers = ModbusDeviceSimulator(
            [Point(tag, _initial(tag.name)) for tag in rmap.printer_tags(slave)],
            on_write=self._written,
        )
        self.mailbox: deque[tuple[int, CoderReport]] = deque()
        self.watchdog = Watchdog(rmap.DEFAULT_WATCHDOG_MS / 1000)
        self._report_seq = 0
        self._command_seq = 0
        self._scan_s = scan_s
        self._scan: asyncio.Task[None] | None = None

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._set(rmap.BOOT_ID, self.boot_id)
        self._set(rmap.CAPACITY, self.coder.capacity)
        self._show_status()
        self.port = await self.registers.start_tcp(self.host, self.port)
        await self.coder.start()
        self._scan = asyncio.create_task(self._run(), name="modbus-printer-scan")

    async def close(self) -> None:
        task, self._scan = self._scan, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.coder.close()
        await self.registers.stop()

    def disconnect(self) -> None:
        """Drop every client connection (the printer keeps listening, and its queue)."""
        self.registers.disconnect()

    # --- the coder's listener -----------------------------------------------------------------

    async def report(self, report: CoderReport) -> None:
        self._report_seq = rmap.next_sequence(self._report_seq)
        self.mailbox.append((self._report_seq, report))
        self._present()
        self._show_status()

    async def faults_changed(self, faults: frozenset[PrinterFault]) -> None:
        self._show_status()

    # --- registers ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._scan_s)
            now = time.monotonic()
            self.watchdog.timeout_s = int(self._get(rmap.WATCHDOG_MS)) / 1000
            self.watchdog.beat(self._get(rmap.HEARTBEAT), now)
            if self.watchdog.expired(now):
                await self.coder.refuse_queue(NackCode.CLEARED, "controller heartbeat lost")
            self._show_status()

    async def _written(self, slave: int, table: Table, address: int, count: int) -> None:
        if slave != self.slave or table is not Table.HOLDING:
            return
        if address <= _COMMAND_SEQUENCE < address + count:
            command, sequence = rmap.split_command_word(int(self._get(rmap.COMMAND)))
            if sequence and sequence != self._command_seq:
                self._command_seq = sequence
                await self._execute(command, sequence)
        if address <= _REPORT_ACK < address + count:
            acknowledged = self._get(rmap.REPORT_ACK)
            if self.mailbox and self.mailbox[0][0] == acknowledged:
                self.mailbox.popleft()
                self._present()
        self._show_status()

    async def _execute(self, command: int, sequence: int) -> None:
        value = 0
        try:
            outcome = await self._carry_out(command)
        except ValueError as error:
            outcome = Refusal(ErrorCode.ARGS, f"unreadable text in the registers: {error}")
        if isinstance(outcome, int):
            value, outcome = outcome, None
        self._set(rmap.COMMAND_RESULT, 0 if outcome is None else rmap.ERROR_NUMBERS[outcome.code])
        self._set(rmap.COMMAND_VALUE, min(value, 0xFFFF))
        self._set(rmap.COMMAND_TEXT, "" if outcome is None else _fit(outcome.text))
        self._set(rmap.COMMAND_ACK, sequence)

    async def _carry_out(self, command: int) -> Refusal | int | None:
        count = int(self._get(rmap.VALUE_COUNT))
        if command == rmap.Command.SELECT:
            if not 1 <= count <= rmap.MAX_FIELDS:
                return Refusal(ErrorCode.ARGS, f"value_count {count} is not 1-{rmap.MAX_FIELDS}")
            job = rmap.decode_text(str(self._get(rmap.JOB)))
            return await self.coder.select(job, self._fields(count))
        if command == rmap.Command.DATA:
            return await self._data(count)
        if command == rmap.Command.GO:
            item = self.coder.take_next()
            if isinstance(item, Refusal):
                return item
            await self.coder.print_unit(item)
            return None
        if command == rmap.Command.CLEAR:
            return await self.coder.clear()
        return Refusal(ErrorCode.VERB, f"unknown command {command}")

    async def _data(self, count: int) -> Refusal | int:
        if not 1 <= count <= rmap.MAX_FIELDS:
            return Refusal(ErrorCode.ARGS, f"value_count {count} is not 1-{rmap.MAX_FIELDS}")
        unit_ref = rmap.decode_text(str(self._get(rmap.UNIT_REF)))
        if not unit_ref:
            return Refusal(ErrorCode.ARGS, "no unit reference")
        if len(self.mailbox) >= self.coder.capacity:
            return Refusal(ErrorCode.BUFFER_FULL, f"{len(self.mailbox)} reports unacknowledged")
        values = self._fields(count)
        return await self.coder.queue_unit(unit_ref, values[0], values[1:])

    def _fields(self, count: int) -> list[str]:
        return [rmap.decode_text(str(self._get(rmap.field_tag(i)))) for i in range(count)]

    def _present(self) -> None:
        """Show the oldest unacknowledged report in the mailbox registers."""
        sequence, outcome, code, unit_ref = 0, rmap.Outcome.NONE, 0, ""
        if self.mailbox:
            sequence, report = self.mailbox[0]
            unit_ref = rmap.encode_text(report.unit_ref, rmap.UNIT_REF_CHARS, "unit reference")
            if report.code is None:
                outcome = rmap.Outcome.PRINTED
            else:
                outcome, code = rmap.Outcome.NACK, rmap.NACK_NUMBERS[report.code]
        self._set(rmap.REPORT_SEQ, sequence)
        self._set(rmap.REPORT_OUTCOME, int(outcome))
        self._set(rmap.REPORT_CODE, code)
        self._set(rmap.REPORT_UNIT_REF, unit_ref)
        self._set(rmap.REPORTS_WAITING, len(self.mailbox))

    def _show_status(self) -> None:
        status = self.coder.status()
        self._set(rmap.STATUS, rmap.status_word(status.ready, status.faults))
        self._set(rmap.QUEUED, status.queued)
        self._set(rmap.CAPACITY, self.coder.capacity)
        job = "" if status.job is None else _fit(status.job, rmap.JOB_CHARS)
        self._set(rmap.SELECTED_JOB, job)

    def _get(self, name: str) -> TagScalar:
        return self.registers.value(name)

    def _set(self, name: str, value: TagScalar) -> None:
        self.registers.set_value(name, value)


def _initial(name: str) -> TagScalar:
    tag = next(t for t in rmap.printer_tags() if t.name == name)
    if tag.data_type.value == "string":
        return ""
    return rmap.DEFAULT_WATCHDOG_MS if name == rmap.WATCHDOG_MS else 0


def _fit(text: str, limit: int = rmap.TEXT_CHARS) -> str:
    """`text` escaped for registers of `limit` characters, cut there if longer (never inside
    an escape): an explanation may be cut, a job name shown in the status may be too."""
    escaped = rmap.escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[:limit]
    partial = cut.find("%", limit - 2)
    return cut if partial < 0 else cut[:partial]
