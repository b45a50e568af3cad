"""One process's observability: its metrics, the devices it drives, its readiness checks.

Built once per gateway process from the site (`Observability.for_site`) and handed to what
reports into it: the line runtime (verdicts, through `line(line_id)`; its devices, through
`attached_line`), the HTTP endpoints (`gateway.observability.routes`) and the event-loop probe
(`measure_loop`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from importlib import metadata

from ebr.outbox import Outbox, OutboxLimits
from gateway.loop_lag import LoopLagProbe
from gateway.observability.collectors import DeviceCollector, LoopLagCollector, OutboxCollector
from gateway.observability.devices import DeviceBoard, ReportsHealth
from gateway.observability.metrics import GatewayMetrics, LineVerdicts
from gateway.observability.readiness import (
    DatabaseWritable,
    DevicesUp,
    Listening,
    OpcUaServerBound,
    Readiness,
    ReadinessCheck,
)
from gateway.site_store import SiteStore


def gateway_version() -> str:
    try:
        return metadata.version("tracegate")
    except metadata.PackageNotFoundError:
        return "unknown"


class Observability:
    def __init__(
        self,
        metrics: GatewayMetrics,
        devices: DeviceBoard,
        readiness: Readiness,
        *,
        version: str = "",
    ) -> None:
        self.version = version or gateway_version()
        self.metrics = metrics
        self.devices = devices
        self.readiness = readiness
        self.started_at = time.monotonic()
        self._lines: dict[str, LineVerdicts] = {}
        self._loop_lag = LoopLagCollector()
        metrics.add(self._loop_lag)

    @classmethod
    def for_site(cls, store: SiteStore, *, opcua_server: Listening | None = None) -> Observability:
        """Ready when the site's database takes writes, the attached devices are up and, when
        `opcua_server` is given, it listens; the outbox's depth is measured when the site has
        uplinks."""
        version = gateway_version()
        metrics = GatewayMetrics(version=version)
        devices = DeviceBoard()
        metrics.add(DeviceCollector(devices))
        uplinks = store.config.uplinks
        if uplinks is not None:
            limits = uplinks.outbox
            outbox = Outbox(
                store.engine,
                limits=OutboxLimits(limits.max_rows, limits.max_bytes, limits.high_water),
            )
            metrics.add(OutboxCollector(outbox, [d.id for d in uplinks.destinations]))
        checks: list[ReadinessCheck] = [DatabaseWritable(store.engine), DevicesUp(devices)]
        if opcua_server is not None:
            checks.append(OpcUaServerBound(opcua_server))
        return cls(metrics, devices, Readiness(checks), version=version)

    def line(self, line_id: str) -> LineVerdicts:
        """Where the line's unit pipeline reports verdicts (the same counters every batch)."""
        verdicts = self._lines.get(line_id)
        if verdicts is None:
            verdicts = self._lines[line_id] = self.metrics.line(line_id)
        return verdicts

    @contextlib.contextmanager
    def attached_line(self, line_id: str, devices: Iterable[ReportsHealth]) -> Iterator[None]:
        """The line's devices are measured and must be up for readiness while the block runs."""
        with self.devices.attached(line_id, devices):
            yield

    def measure_loop(self, probe: LoopLagProbe | None) -> None:
        """Report `probe`'s event-loop lag from now on (None: no longer measured)."""
        self._loop_lag.probe = probe

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.started_at
