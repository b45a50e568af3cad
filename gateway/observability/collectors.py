"""Metrics read when Prometheus scrapes: device health, outbox depth, event-loop lag.

Each reads state that is kept anyway (a driver's health, the outbox's stream heads, the
loop-lag probe's window), so nothing on the unit path does extra work for them. They run in
the scrape's worker thread, never on the event loop: the outbox is read from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from drivers.base import LinkState
from ebr.outbox import Outbox
from gateway.loop_lag import LoopLagProbe
from gateway.observability.devices import DeviceBoard

log = logging.getLogger("tracegate.observability")

PREFIX: Final = "tracegate_"


class DeviceCollector(Collector):
    """`tracegate_device_state{line,device,state}` is 1 for the state the device is in and 0
    for the others (connecting, up, degraded, down); `tracegate_device_up` is 1 when up."""

    def __init__(self, board: DeviceBoard) -> None:
        self._board = board

    def collect(self) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            PREFIX + "device_state",
            "The device's link state: 1 for the state it is in, 0 for the others",
            labels=["line", "device", "state"],
        )
        up = GaugeMetricFamily(
            PREFIX + "device_up", "1 when the device is up, else 0", labels=["line", "device"]
        )
        errors = CounterMetricFamily(
            PREFIX + "device_errors",
            "Errors the driver counted since it was opened",
            labels=["line", "device"],
        )
        age = GaugeMetricFamily(
            PREFIX + "device_last_good_value_age_seconds",
            "How long ago the device last sent a good value",
            labels=["line", "device"],
        )
        for entry in self._board.snapshot():
            health = entry.health
            names = [entry.line, health.name]
            for candidate in LinkState:
                state.add_metric([*names, candidate.value], float(health.state is candidate))
            up.add_metric(names, float(health.state is LinkState.UP))
            errors.add_metric(names, float(health.error_count))
            if health.last_good_value_age_s is not None:
                age.add_metric(names, health.last_good_value_age_s)
        yield from (state, up, errors, age)


class OutboxCollector(Collector):
    """Messages and bytes waiting per destination (every configured one, 0 when empty), and how
    full the outbox is against its limits."""

    def __init__(self, outbox: Outbox, destinations: Sequence[str]) -> None:
        self._outbox = outbox
        self._destinations = tuple(destinations)

    def collect(self) -> Iterator[Metric]:
        try:
            streams = self._outbox.streams()
        except SQLAlchemyError as error:
            log.warning("outbox depth not scraped: the database does not answer: %s", error)
            return
        rows = dict.fromkeys(self._destinations, 0)
        size = dict.fromkeys(self._destinations, 0)
        for stream in streams:
            rows[stream.destination] = rows.get(stream.destination, 0) + stream.rows
            size[stream.destination] = size.get(stream.destination, 0) + stream.bytes
        messages = GaugeMetricFamily(
            PREFIX + "outbox_messages",
            "Messages waiting for their receiver's acknowledgement",
            labels=["destination"],
        )
        body_bytes = GaugeMetricFamily(
            PREFIX + "outbox_bytes", "Bytes of the waiting messages", labels=["destination"]
        )
        for destination in sorted(rows):
            messages.add_metric([destination], float(rows[destination]))
            body_bytes.add_metric([destination], float(size[destination]))
        limits = self._outbox.limits
        fill = max(sum(rows.values()) / limits.max_rows, sum(size.values()) / limits.max_bytes)
        yield messages
        yield body_bytes
        yield GaugeMetricFamily(
            PREFIX + "outbox_fill_ratio",
            "How full the outbox is: the larger of its rows' and bytes' share of the limits "
            "(production is refused at 1)",
            value=fill,
        )


class LoopLagCollector(Collector):
    """How late the process's event loop wakes up, over the probe's rolling window; nothing
    while no probe runs."""

    def __init__(self) -> None:
        self.probe: LoopLagProbe | None = None

    def collect(self) -> Iterator[Metric]:
        if self.probe is None:
            return
        stats = self.probe.stats()
        for name, help_text, value in (
            ("event_loop_lag_seconds", "The last sample's lag", stats.last_s),
            ("event_loop_lag_p99_seconds", "99th percentile lag over the window", stats.p99_s),
            ("event_loop_lag_max_seconds", "Largest lag over the window", stats.max_s),
            ("event_loop_lagging", "1 while the loop is reported stalled", float(stats.lagging)),
        ):
            yield GaugeMetricFamily(PREFIX + name, help_text, value=value)
