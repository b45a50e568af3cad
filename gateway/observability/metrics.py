"""The gateway's Prometheus metrics, in a registry of its own.

Never the process-global registry: two gateways in one test process, or a library registering
its own metrics, never mix with ours. Every name starts with `tracegate_`. Labels name lines,
devices, destinations, outcomes and reasons — bounded sets — and never a serial, a code or a
batch: those are unbounded and their history is the journal's, not a time series'.

Units are counted as they get their verdict (`LineVerdicts`, which the line's unit pipeline
calls: one counter increment, and a histogram observation for an accept); what has a state of
its own (devices, the outbox, the event loop) is read when Prometheus scrapes
(`gateway.observability.collectors`).
"""

from __future__ import annotations

from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.registry import Collector

NAMESPACE: Final = "tracegate"
VERDICT_LATENCY_BUCKETS_S: Final = (
    0.01,
    0.02,
    0.03,
    0.04,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.5,
    1.0,
)
"""Around the line's verdict deadline (250 ms on the demo line): the tail matters most."""
ACCEPTED: Final = "accepted"
REJECTED: Final = "rejected"


class GatewayMetrics:
    def __init__(self, *, version: str = "") -> None:
        self.registry = CollectorRegistry()
        self.units = Counter(
            "units",
            "Verdicts given to units, by outcome; an accept the PLC's gate revoked counts once "
            "as accepted and once as rejected (reason rejected_at_gate or late_verdict)",
            ["line", "outcome"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.rejects = Counter(
            "unit_rejects",
            "Rejected units by reason (the gateway's reasons and the vision's)",
            ["line", "reason"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.verdict_latency = Histogram(
            "verdict_latency_seconds",
            "Accepted units: from the PLC's trigger to the PLC acknowledging the accept",
            ["line"],
            namespace=NAMESPACE,
            buckets=VERDICT_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        info = Gauge(
            "build_info",
            "Always 1; the gateway's version as a label",
            ["version"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        info.labels(version=version or "unknown").set(1)

    def line(self, line_id: str) -> LineVerdicts:
        """What one line's unit pipeline reports its verdicts to."""
        return LineVerdicts(self, line_id)

    def add(self, collector: Collector) -> None:
        self.registry.register(collector)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


CONTENT_TYPE: Final = CONTENT_TYPE_LATEST


class LineVerdicts:
    """The counters of one line, bound once so that a verdict costs an increment."""

    def __init__(self, metrics: GatewayMetrics, line_id: str) -> None:
        self._line_id = line_id
        self._metrics = metrics
        self._accepted = metrics.units.labels(line=line_id, outcome=ACCEPTED)
        self._rejected = metrics.units.labels(line=line_id, outcome=REJECTED)
        self._latency = metrics.verdict_latency.labels(line=line_id)
        self._reasons: dict[str, Counter] = {}

    def accepted(self, latency_s: float) -> None:
        self._accepted.inc()
        self._latency.observe(latency_s)

    def rejected(self, reason: str) -> None:
        self._rejected.inc()
        counter = self._reasons.get(reason)
        if counter is None:
            counter = self._metrics.rejects.labels(line=self._line_id, reason=reason)
            self._reasons[reason] = counter
        counter.inc()
