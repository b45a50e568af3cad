"""The units a printer driver has handed over and still owes the line a report for.

Every driver of `drivers.base.Printer` promises one `PrintReport` per unit `send` handed to
the printer: PRINTED or REFUSED as the printer says, or REFUSED by the driver when the link is
lost before the printer said anything (the printer discards its queue then, or the driver
makes it do so before it prints again). This book keeps that promise for the OPC UA and
Modbus printers; it also holds what they share with the TCP printer: the check of a unit
against the selected job and the meaning of the printer's error codes.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from drivers.base import (
    DeviceFaultError,
    DriverError,
    PrintItem,
    PrintOutcome,
    PrintReport,
    UsageError,
)
from drivers.health import HealthTracker
from drivers.printer.protocol import ErrorCode

USAGE_CODES = frozenset({ErrorCode.UNKNOWN_JOB, ErrorCode.FIELDS, ErrorCode.ARGS})
"""Refusals that are the configuration's fault; the others are the printer's state."""
CONNECTION_LOST = "connection lost before the printer confirmed the print; not printed"


def refusal_error(device: str, what: str, code: str, text: str) -> DriverError:
    """The error for a refused request: a usage error for a wrong job, else a device fault."""
    message = f"{what}: printer says {code}: {text}"
    if code in USAGE_CODES:
        return UsageError(message, device=device, hint="check the job and its field names")
    return DeviceFaultError(message, device=device)


def check_item(device: str, job: tuple[str, tuple[str, ...]] | None, item: PrintItem) -> None:
    """Refuse a unit that does not fit the selected job, before anything is sent."""
    if job is None:
        raise UsageError("no job loaded", device=device, hint="call load_job first")
    name, fields = job
    if 1 + len(item.text_lines) != len(fields):
        raise UsageError(
            f"unit {item.unit_ref!r} has {1 + len(item.text_lines)} values, job {name!r} "
            f"has {len(fields)} fields ({', '.join(fields)})",
            device=device,
            hint="send the payload plus one text line per remaining field",
        )


class ReportStream:
    """`Printer.reports()`: the reports in the order they were settled, until the driver closes."""

    def __init__(self, queue: asyncio.Queue[PrintReport | None]) -> None:
        self._queue = queue

    def __aiter__(self) -> ReportStream:
        return self

    async def __anext__(self) -> PrintReport:
        report = await self._queue.get()
        if report is None:
            self._queue.put_nowait(None)
            raise StopAsyncIteration
        return report


class Outstanding:
    """Units handed over and not yet reported, and the queue their reports go to."""

    def __init__(self, device: str, health: HealthTracker) -> None:
        self._device = device
        self._health = health
        self._units: dict[str, PrintItem] = {}
        self._reports: asyncio.Queue[PrintReport | None] = asyncio.Queue()

    def __len__(self) -> int:
        return len(self._units)

    def __contains__(self, unit_ref: object) -> bool:
        return unit_ref in self._units

    def expect(self, item: PrintItem) -> None:
        """`item` is about to be handed over: from now on it gets exactly one report."""
        if item.unit_ref in self._units:
            raise UsageError(f"unit {item.unit_ref!r} is already queued", device=self._device)
        self._units[item.unit_ref] = item

    def withdraw(self, unit_ref: str) -> None:
        """`unit_ref` never reached the printer (its request failed): it is owed no report."""
        self._units.pop(unit_ref, None)

    def settle(self, unit_ref: str, outcome: PrintOutcome, reason: str | None) -> bool:
        """The printer's word on a unit; False (and a health error) if none was awaited."""
        if self._units.pop(unit_ref, None) is None:
            self._health.error(f"{outcome.value} report for unit {unit_ref!r} not awaiting one")
            return False
        self._put(unit_ref, outcome, reason)
        return True

    def write_off(self, reason: str = CONNECTION_LOST) -> int:
        """Report every unit still awaiting a word as REFUSED; how many there were."""
        lost = list(self._units)
        self._units.clear()
        for unit_ref in lost:
            self._put(unit_ref, PrintOutcome.REFUSED, reason)
        return len(lost)

    def stream(self) -> ReportStream:
        return ReportStream(self._reports)

    def close(self) -> None:
        self._reports.put_nowait(None)

    def _put(self, unit_ref: str, outcome: PrintOutcome, reason: str | None) -> None:
        self._reports.put_nowait(PrintReport(unit_ref, outcome, reason, datetime.now(UTC)))
