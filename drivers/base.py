"""What the rest of tracegate sees of a device: Protocols, neutral value types, errors, health.

Nothing here belongs to a protocol library; each driver sub-package translates its library's
types into these, so asyncua or pymodbus types never leave their sub-package.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

# --- values -----------------------------------------------------------------------------------


class Quality(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"
    STALE = "stale"
    """No update within the expected interval: the last value may no longer be true."""


TagScalar = bool | int | float | str | bytes


@dataclass(frozen=True, slots=True)
class TagValue:
    value: TagScalar | None
    quality: Quality
    source_time: datetime | None
    """When the device says the value was sampled, if it says."""
    received_time: datetime
    """When the gateway received it (UTC)."""


# --- link state and health ---------------------------------------------------------------------


class LinkState(StrEnum):
    CONNECTING = "connecting"
    UP = "up"
    DEGRADED = "degraded"
    """Connected, but part of the device does not answer (a slave, a subscription, a tag)."""
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """What the gateway and the HMI show for a device."""

    name: str
    kind: str
    state: LinkState
    since: datetime
    last_good_value_age_s: float | None
    error_count: int
    last_error: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)


# --- errors ------------------------------------------------------------------------------------


class DriverError(Exception):
    """Base of every device error; `hint` tells an engineer what to look at."""

    def __init__(self, message: str, *, device: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.device = device
        self.hint = hint

    def __str__(self) -> str:
        prefix = f"{self.device}: " if self.device else ""
        suffix = f" ({self.hint})" if self.hint else ""
        return f"{prefix}{self.message}{suffix}"


class DeviceUnavailableError(DriverError):
    """The device cannot be reached or the connection was lost."""


class DeviceTimeoutError(DriverError):
    """The device did not answer in time."""


class PeerProtocolError(DriverError):
    """The peer sent something that breaks the protocol (garbage, wrong length, bad frame)."""


class UsageError(DriverError):
    """We asked for something wrong: an unknown tag, a bad address, a value of the wrong type."""


class SecurityError(DriverError):
    """The peer's certificate or security policy is not acceptable; never retried silently."""


class DeviceFaultError(DriverError):
    """The device reports a fault of its own (printer out of ink, head fault, camera error)."""


# --- tag sources (PLC over OPC UA or Modbus) -------------------------------------------------


@runtime_checkable
class TagSource(Protocol):
    name: str

    async def read(self, tags: Sequence[str]) -> dict[str, TagValue]:
        """Read `tags` in as few requests as the protocol allows."""
        ...

    async def write(self, values: Mapping[str, TagScalar]) -> None: ...

    def subscribe(self, tags: Sequence[str]) -> AsyncIterator[tuple[str, TagValue]]:
        """Changes of `tags` as they come; a stale or bad value is reported, not dropped."""
        ...

    def health(self) -> DeviceHealth: ...


# --- printers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrintItem:
    """One unit's variable data: the symbol's payload and the human-readable lines."""

    unit_ref: str
    payload: str
    text_lines: tuple[str, ...] = ()


class PrintOutcome(StrEnum):
    PRINTED = "printed"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class PrintReport:
    unit_ref: str
    outcome: PrintOutcome
    reason: str | None = None
    at: datetime | None = None


class PrinterFault(StrEnum):
    OFFLINE = "offline"
    INK_LOW = "ink_low"
    INK_OUT = "ink_out"
    HEAD = "head"
    BUFFER_FULL = "buffer_full"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    ready: bool
    job: str | None
    faults: frozenset[PrinterFault] = frozenset()
    queued: int = 0


@runtime_checkable
class Printer(Protocol):
    name: str

    async def load_job(self, job: str, fields: Sequence[str]) -> None:
        """Select the message (layout) `job` whose variable fields are `fields`."""
        ...

    async def send(self, item: PrintItem) -> None:
        """Queue one unit's data; its `PrintReport` arrives through `reports`."""
        ...

    def reports(self) -> AsyncIterator[PrintReport]: ...

    async def status(self) -> PrinterStatus: ...

    def health(self) -> DeviceHealth: ...


# --- cameras --------------------------------------------------------------------------------


class PixelFormat(StrEnum):
    MONO8 = "mono8"
    PNG = "png"


@dataclass(frozen=True, slots=True)
class Frame:
    """A grayscale image of one unit, taken on its trigger."""

    unit_ref: str
    width: int
    height: int
    pixel_format: PixelFormat
    data: bytes
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class SmartResult:
    """What a smart camera decoded itself."""

    unit_ref: str
    text: str | None
    symbology: str | None
    grade: str | None
    taken_at: datetime


@runtime_checkable
class Camera(Protocol):
    name: str

    def results(self) -> AsyncIterator[Frame | SmartResult]: ...

    def health(self) -> DeviceHealth: ...


# --- handheld scanners ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """One scan: the data with its AIM symbology identifier (`]d2`, `]C1`, `]Q3`) preserved."""

    text: str
    received_at: datetime


@runtime_checkable
class Scanner(Protocol):
    name: str

    def scans(self) -> AsyncIterator[ScanEvent]: ...

    def health(self) -> DeviceHealth: ...
