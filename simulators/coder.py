"""A simulated coder (CIJ, TIJ, laser) without a transport: its messages, queue, faults, prints.

The printer simulators differ only in how the gateway reaches the coder — TGP/1 over TCP
(`simulators.printer`), OPC UA (`simulators.opcua_device.printer`) or Modbus registers
(`simulators.modbus_device.printer`) — so they share this machine, and a unit is treated the
same whichever way its data came (docs/protocols/printer.md). Requests return a `Refusal`
(with TGP/1's error codes) or their result; what the coder says on its own (PRINTED, NACK,
a change of faults) goes to its `listener`, one at a time and in order.

Each print is recorded per unit reference as a `PrintedUnit` — what actually landed on the
unit, which with print faults is not always what was sent — in `printed` and through
`on_print`, so a camera simulator can render it. Printing happens every `print_interval`
seconds while the queue holds units (a photocell firing as units pass), or on `trigger()` /
a print-go when `print_interval` is None.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypedDict

from drivers.printer.protocol import ErrorCode, NackCode, PrinterFault, PrinterStatus

BLOCKING_FAULTS: Mapping[PrinterFault, NackCode] = {
    PrinterFault.OFFLINE: NackCode.OFFLINE,
    PrinterFault.INK_OUT: NackCode.INK_OUT,
    PrinterFault.HEAD: NackCode.HEAD,
    PrinterFault.OTHER: NackCode.OTHER,
}
"""Faults that stop the coder, and the NACK code of the units they cost."""


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


@dataclass(frozen=True, slots=True)
class QueuedUnit:
    unit_ref: str
    payload: str
    text_lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request the coder did not carry out, with TGP/1's error code and an explanation."""

    code: ErrorCode
    text: str


@dataclass(frozen=True, slots=True)
class CoderReport:
    """PRINTED (`code` None) or NACK with its code: the one report every queued unit gets."""

    unit_ref: str
    code: NackCode | None = None
    text: str = ""

    @property
    def printed(self) -> bool:
        return self.code is None


class CoderSettings(TypedDict, total=False):
    """The keyword arguments of `Coder`, which every printer simulator takes as well."""

    jobs: Mapping[str, Sequence[str]] | None
    capacity: int
    print_interval: float | None
    print_faults: PrintFaults | None
    on_print: Callable[[PrintedUnit], None] | None
    seed: int | None
    model: str


class CoderListener(Protocol):
    async def report(self, report: CoderReport) -> None: ...

    async def faults_changed(self, faults: frozenset[PrinterFault]) -> None: ...


class Coder:
    """One coder. `start()` runs its photocell (with a `print_interval`), `close()` stops it."""

    def __init__(
        self,
        *,
        jobs: Mapping[str, Sequence[str]] | None = None,
        capacity: int = 64,
        print_interval: float | None = 0.01,
        print_faults: PrintFaults | None = None,
        on_print: Callable[[PrintedUnit], None] | None = None,
        seed: int | None = None,
        model: str = "tracegate-sim",
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity {capacity} must be at least 1")
        if print_interval is not None and print_interval <= 0:
            raise ValueError(f"print interval {print_interval} must be positive")
        self.jobs = None if jobs is None else {name: tuple(f) for name, f in jobs.items()}
        self.capacity = capacity
        self.print_interval = print_interval
        self.print_faults = print_faults or PrintFaults()
        self.on_print = on_print
        self.model = model
        self.listener: CoderListener | None = None
        self.printed: dict[str, PrintedUnit] = {}
        self.faults: set[PrinterFault] = set()
        self.job: tuple[str, tuple[str, ...]] | None = None
        self.queue: deque[QueuedUnit] = deque()
        self._random = random.Random(seed)  # noqa: S311 - simulated defects, not secrets
        self._printing: asyncio.Task[None] | None = None
        self._work = asyncio.Event()

    async def start(self) -> None:
        if self.print_interval is not None and self._printing is None:
            self._printing = asyncio.create_task(self._print_loop(self.print_interval))

    async def close(self) -> None:
        task, self._printing = self._printing, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- state ----------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        return len(self.queue)

    def blocking_fault(self) -> PrinterFault | None:
        return next((f for f in BLOCKING_FAULTS if f in self.faults), None)

    def status(self) -> PrinterStatus:
        faults = set(self.faults)
        if self.queued >= self.capacity:
            faults.add(PrinterFault.BUFFER_FULL)
        return PrinterStatus(
            ready=self.job is not None and self.blocking_fault() is None,
            job=None if self.job is None else self.job[0],
            faults=frozenset(faults),
            queued=self.queued,
        )

    # --- requests -------------------------------------------------------------------------

    async def select(self, job: str, fields: Sequence[str]) -> Refusal | None:
        """Select message `job` with its variable `fields`; the queue is refused JOB_CHANGED."""
        names = tuple(fields)
        known = None if self.jobs is None else self.jobs.get(job)
        if self.jobs is not None and known is None:
            listed = ", ".join(sorted(self.jobs)) or "none"
            return Refusal(ErrorCode.UNKNOWN_JOB, f"no message {job!r}; known: {listed}")
        if known is not None and known != names:
            return Refusal(ErrorCode.FIELDS, f"message {job!r} has fields {','.join(known)}")
        if not names:
            return Refusal(ErrorCode.ARGS, "a message needs a field")
        await self.refuse_queue(NackCode.JOB_CHANGED, f"message {job} selected")
        self.job = (job, names)
        return None

    async def queue_unit(
        self, unit_ref: str, payload: str, text_lines: Sequence[str]
    ) -> Refusal | int:
        """Queue one unit's data; the queue depth after it, or why not."""
        lines = tuple(text_lines)
        blocking = self.blocking_fault()
        if blocking is not None:
            code = ErrorCode.OFFLINE if blocking is PrinterFault.OFFLINE else ErrorCode.FAULT
            return Refusal(code, f"printer {blocking.value}")
        if self.job is None:
            return Refusal(ErrorCode.NOJOB, "select a message first")
        if 1 + len(lines) != len(self.job[1]):
            return Refusal(ErrorCode.FIELDS, f"message {self.job[0]} has {len(self.job[1])} fields")
        if any(item.unit_ref == unit_ref for item in self.queue):
            return Refusal(ErrorCode.DUPLICATE, "unit already queued")
        if len(self.queue) >= self.capacity:
            return Refusal(ErrorCode.BUFFER_FULL, f"{self.capacity} queued")
        self.queue.append(QueuedUnit(unit_ref, payload, lines))
        self._work.set()
        return len(self.queue)

    def take_next(self) -> Refusal | QueuedUnit:
        """The unit a print-go prints now (print it with `print_unit`), or why none."""
        if not self.queue:
            return Refusal(ErrorCode.EMPTY, "nothing queued")
        if self.blocking_fault() is not None:
            return Refusal(ErrorCode.OFFLINE, "printer not ready")
        return self.queue.popleft()

    async def clear(self) -> int:
        """Discard the queue, each unit refused CLEARED; how many there were."""
        count = len(self.queue)
        await self.refuse_queue(NackCode.CLEARED, "queue cleared")
        return count

    def forget_queue(self) -> int:
        """Drop the queue without a word: its controller is gone (TGP/1 §1)."""
        count = len(self.queue)
        self.queue.clear()
        return count

    # --- what a test or the line simulator drives -----------------------------------------

    async def set_fault(self, fault: PrinterFault, active: bool = True) -> None:
        """Raise or clear a printer condition; a blocking one refuses everything queued."""
        if active == (fault in self.faults):
            return
        if active:
            self.faults.add(fault)
        else:
            self.faults.discard(fault)
        if active and fault in BLOCKING_FAULTS:
            await self.refuse_queue(BLOCKING_FAULTS[fault], f"printer {fault.value}")
        if self.listener is not None:
            await self.listener.faults_changed(frozenset(self.faults))

    async def trigger(self) -> PrintedUnit | None:
        """A product-detect signal: print the next queued unit, if any."""
        if not self.queue or self.blocking_fault() is not None:
            return None
        return await self.print_unit(self.queue.popleft())

    async def refuse_queue(self, code: NackCode, text: str) -> None:
        while self.queue:
            item = self.queue.popleft()
            await self._tell(CoderReport(item.unit_ref, code, text))

    # --- printing -------------------------------------------------------------------------

    async def _print_loop(self, interval: float) -> None:
        while True:
            await self._work.wait()
            await asyncio.sleep(interval)
            if await self.trigger() is None and not self.queued:
                self._work.clear()

    async def print_unit(self, item: QueuedUnit) -> PrintedUnit | None:
        """Print `item` (taken off the queue) with the configured print faults."""
        faults, roll = self.print_faults, self._random.random
        if faults.nack and roll() < faults.nack:
            text = "unit passed before the print was ready"
            await self._tell(CoderReport(item.unit_ref, NackCode.MISSED, text))
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
        await self._tell(CoderReport(item.unit_ref))
        return unit

    async def _tell(self, report: CoderReport) -> None:
        if self.listener is not None:
            await self.listener.report(report)

    def _corrupt(self, payload: str) -> str:
        if not payload:
            return "0"
        i = self._random.randrange(len(payload))
        replacement = "0" if payload[i] != "0" else "1"
        return payload[:i] + replacement + payload[i + 1 :]


class Watchdog:
    """The controller's heartbeat as a coder with a fieldbus interface watches it.

    Armed by the first change of the heartbeat; when it then stops changing for `timeout_s`,
    `expired` is True once and the coder drops its queue (its controller has written those
    units off) until the heartbeat moves again. A timeout of 0 never expires.
    """

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._value: object = None
        self._beat_at: float | None = None

    def beat(self, value: object, now: float) -> None:
        if value != self._value:
            self._value = value
            self._beat_at = now

    def expired(self, now: float) -> bool:
        if self._beat_at is None or not self.timeout_s or now - self._beat_at <= self.timeout_s:
            return False
        self._beat_at = None
        return True


class CoderFront:
    """The coder's state and controls on a transport simulator, as tests and the line see them."""

    coder: Coder

    async def install(self, coder: Coder) -> None:
        """Fit a fresh coder in place of the running one (a test starts from a known state)."""
        old, self.coder = self.coder, coder
        await old.close()
        coder.listener = old.listener
        await coder.start()

    @property
    def jobs(self) -> dict[str, tuple[str, ...]] | None:
        return self.coder.jobs

    @property
    def capacity(self) -> int:
        return self.coder.capacity

    @capacity.setter
    def capacity(self, capacity: int) -> None:
        self.coder.capacity = capacity

    @property
    def print_interval(self) -> float | None:
        return self.coder.print_interval

    @property
    def print_faults(self) -> PrintFaults:
        return self.coder.print_faults

    @print_faults.setter
    def print_faults(self, faults: PrintFaults) -> None:
        self.coder.print_faults = faults

    @property
    def on_print(self) -> Callable[[PrintedUnit], None] | None:
        return self.coder.on_print

    @on_print.setter
    def on_print(self, callback: Callable[[PrintedUnit], None] | None) -> None:
        self.coder.on_print = callback

    @property
    def model(self) -> str:
        return self.coder.model

    @property
    def printed(self) -> dict[str, PrintedUnit]:
        return self.coder.printed

    @property
    def faults(self) -> set[PrinterFault]:
        return self.coder.faults

    @property
    def job(self) -> tuple[str, tuple[str, ...]] | None:
        return self.coder.job

    @property
    def queued(self) -> int:
        return self.coder.queued

    def status(self) -> PrinterStatus:
        return self.coder.status()

    async def set_fault(self, fault: PrinterFault, active: bool = True) -> None:
        """Raise or clear a printer condition; a blocking one refuses everything queued."""
        await self.coder.set_fault(fault, active)

    async def set_offline(self, offline: bool = True) -> None:
        await self.set_fault(PrinterFault.OFFLINE, offline)

    async def trigger(self) -> PrintedUnit | None:
        """A product-detect signal: print the next queued unit, if any."""
        return await self.coder.trigger()
