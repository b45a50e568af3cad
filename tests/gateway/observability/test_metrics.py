"""The metrics: verdict counters and latency, device health, outbox depth and event-loop lag,
as Prometheus parses them from the exposition, in a registry of their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from drivers.base import DeviceHealth, LinkState
from ebr.outbox import Outbox, OutboxLimits
from ebr.outbox.message import OutgoingEvent
from gateway.loop_lag import LoopLagProbe
from gateway.observability.collectors import DeviceCollector, LoopLagCollector, OutboxCollector
from gateway.observability.devices import DeviceBoard
from gateway.observability.metrics import GatewayMetrics

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(metrics: GatewayMetrics) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def at(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@dataclass
class FakeDevice:
    name: str
    state: LinkState
    errors: int = 0

    def health(self) -> DeviceHealth:
        return DeviceHealth(
            name=self.name,
            kind="printer",
            state=self.state,
            since=datetime.now(UTC),
            last_good_value_age_s=0.5,
            error_count=self.errors,
        )


def test_verdicts_are_counted_by_line_outcome_and_reason_with_the_accept_latency() -> None:
    metrics = GatewayMetrics(version="9.9")
    line = metrics.line("line-1")
    for latency in (0.012, 0.045, 0.180):
        line.accepted(latency)
    line.rejected("no_image")
    line.rejected("no_image")
    line.rejected("grade_below_minimum")
    metrics.line("line-2").accepted(0.3)

    samples = scrape(metrics)
    assert at(samples, "tracegate_units_total", line="line-1", outcome="accepted") == 3
    assert at(samples, "tracegate_units_total", line="line-1", outcome="rejected") == 3
    assert at(samples, "tracegate_unit_rejects_total", line="line-1", reason="no_image") == 2
    assert (
        at(samples, "tracegate_unit_rejects_total", line="line-1", reason="grade_below_minimum")
        == 1
    )
    assert at(samples, "tracegate_units_total", line="line-2", outcome="accepted") == 1
    assert at(samples, "tracegate_verdict_latency_seconds_count", line="line-1") == 3
    assert at(samples, "tracegate_verdict_latency_seconds_bucket", line="line-1", le="0.05") == 2
    assert at(samples, "tracegate_verdict_latency_seconds_bucket", line="line-1", le="+Inf") == 3
    assert at(samples, "tracegate_build_info", version="9.9") == 1


def test_each_gateway_has_its_own_registry() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    first.line("line-1").accepted(0.01)
    assert ("tracegate_units_total", (("line", "line-1"), ("outcome", "accepted"))) not in scrape(
        second
    )
    assert REGISTRY.get_sample_value("tracegate_units_total", {"line": "line-1"}) is None


def test_device_health_is_a_state_per_device_and_leaves_with_its_line() -> None:
    metrics = GatewayMetrics()
    board = DeviceBoard()
    metrics.add(DeviceCollector(board))
    devices = [FakeDevice("printer-1", LinkState.UP), FakeDevice("camera-1", LinkState.DOWN, 4)]
    with board.attached("line-1", devices):
        samples = scrape(metrics)
        assert at(samples, "tracegate_device_up", line="line-1", device="printer-1") == 1
        assert at(samples, "tracegate_device_up", line="line-1", device="camera-1") == 0
        states = {
            state.value: at(
                samples, "tracegate_device_state", line="line-1", device="camera-1", state=state
            )
            for state in LinkState
        }
        assert states == {"connecting": 0, "up": 0, "degraded": 0, "down": 1}
        assert at(samples, "tracegate_device_errors_total", line="line-1", device="camera-1") == 4
        assert (
            at(
                samples,
                "tracegate_device_last_good_value_age_seconds",
                line="line-1",
                device="printer-1",
            )
            == 0.5
        )
    assert not [name for name, _ in scrape(metrics) if name.startswith("tracegate_device")]


def test_outbox_depth_per_destination_and_fill(engine: Engine) -> None:
    outbox = Outbox(engine, limits=OutboxLimits(max_rows=10, max_bytes=1_000_000))
    events = [
        OutgoingEvent(batch_id=7, journal_seq=seq, created_at=datetime.now(UTC), body="x" * 100)
        for seq in (1, 2, 3)
    ]
    with engine.begin() as conn:
        outbox.write(conn, "plant-1/line-1", ["mes"], events)
        outbox.write(conn, "plant-1/line-2", ["mes"], events[:1])
    metrics = GatewayMetrics()
    metrics.add(OutboxCollector(outbox, ["mes", "site-db"]))

    samples = scrape(metrics)
    assert at(samples, "tracegate_outbox_messages", destination="mes") == 4
    assert at(samples, "tracegate_outbox_messages", destination="site-db") == 0
    assert at(samples, "tracegate_outbox_bytes", destination="mes") == 400
    assert at(samples, "tracegate_outbox_fill_ratio") == 0.4


def test_event_loop_lag_comes_from_the_probe_it_is_given() -> None:
    metrics = GatewayMetrics()
    collector = LoopLagCollector()
    metrics.add(collector)
    assert not [name for name, _ in scrape(metrics) if "event_loop" in name]
    probe = LoopLagProbe(threshold_s=0.1, consecutive=1)
    for lag in (0.001, 0.002, 0.25):
        probe.record(lag)
    collector.probe = probe
    samples = scrape(metrics)
    assert at(samples, "tracegate_event_loop_lag_seconds") == 0.25
    assert at(samples, "tracegate_event_loop_lag_max_seconds") == 0.25
    assert at(samples, "tracegate_event_loop_lagging") == 1
