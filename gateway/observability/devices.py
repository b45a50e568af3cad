"""The devices this process drives right now, by line: what readiness and the device metrics
read. A line's devices are attached while its batch runs and detached after; a process without
a running line (`tracegate opcua serve`) has none."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from drivers.base import DeviceHealth


class ReportsHealth(Protocol):
    def health(self) -> DeviceHealth: ...


@dataclass(frozen=True, slots=True)
class LineDeviceHealth:
    line: str
    health: DeviceHealth


class DeviceBoard:
    def __init__(self) -> None:
        self._lines: dict[str, tuple[ReportsHealth, ...]] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def attached(self, line_id: str, devices: Iterable[ReportsHealth]) -> Iterator[None]:
        """The line's devices are on the board while the block runs."""
        with self._lock:
            self._lines[line_id] = tuple(devices)
        try:
            yield
        finally:
            with self._lock:
                self._lines.pop(line_id, None)

    def snapshot(self) -> list[LineDeviceHealth]:
        """Every attached device's health now, by line."""
        with self._lock:
            lines = list(self._lines.items())
        return [
            LineDeviceHealth(line_id, device.health())
            for line_id, devices in lines
            for device in devices
        ]
