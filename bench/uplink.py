"""Benchmark: the outbox's cost on the journal's commit, its disk use, and the drain of a backlog
to MQTT on loopback.

- `outbox_us_per_event`: the outbox feed's time inside the journal's transaction (mapping the
  entry to EPCIS, JSON, hash chain, INSERT) per EPCIS event, measured on groups of 50 journal
  events (25 issued, 25 accepted, as a line commits) on SQLite with the store's durability
  settings; `commit_overhead_us_per_event` the difference of the median group commit with
  and without the feed, in the same run (baseline: the journal alone).
- `bytes_per_event`: database growth per message (body, header, indexes), from a batch with
  cases of ten; `outage_4_days_gb` what a 4-day outage of a 600 units/min line leaves.
- `drain_1m_s`: time to deliver a backlog of `--backlog` messages (1,000,000) to the Mosquitto
  on 127.0.0.1:1883 with the MQTT uplink and the dispatcher (read page, publish QoS 1, PUBACK,
  delete), extrapolated to 1,000,000 when `--backlog` is smaller. The backlog's rows are written
  directly with `Outbox.write` (the feed's own write path, one transaction per 10,000 messages)
  from commissioning events that differ in their serial: generating 1,000,000 events through
  the journal would take longer than the drain. Baseline, same run: bare aiomqtt publishes
  (QoS 1, same payloads, same window) with no database, and `drain_to_baseline` the drain's
  time over the baseline's, which a busy machine changes less than either time.
- `trace_query_ms_p99`: tracing any code of a 100,000-unit batch in cases and pallets (10,000
  with --quick), as bench/trace_query.py measures it.

Prints one JSON object; progress goes to stderr.
Usage: python bench/uplink.py [--quick] [--backlog N] [--host H] [--port P]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt
from sqlalchemy import Connection, Engine, text
from trace_query import build_batch, trace_query_ms_p99

from ebr.allocation import CodeAllocator
from ebr.catalog import LineSetup, ProductLevelSetup, SiteIdentity, create_batch, sync_master_data
from ebr.db import make_engine
from ebr.journal import EventKind, Journal, JournalEntry, JournalEvent
from ebr.outbox import Outbox, OutboxLimits, OutboxMessage, OutgoingEvent
from ebr.schema import upgrade
from gateway.epcis.from_journal import ExportSettings
from gateway.uplink.dispatcher import Dispatcher, DispatcherSettings
from gateway.uplink.mqtt import MqttUplink
from gateway.uplink.outbox_feed import OutboxFeed
from gateway.uplink.wire import document
from serialization.codes import SchemeName
from serialization.rules import (
    Carrier,
    CodingRule,
    PackagingLevel,
    ProductMaster,
    SerialGenerator,
    SerialSpec,
)
from serialization.serials import SAFE_ALPHANUMERIC

TARGETS = {"drain_1m_s": 300, "trace_query_ms_p99": 100}
EXPIRY = date(2027, 5, 31)
UNIT_RULE = CodingRule(
    "gs1-unit",
    SchemeName.GS1,
    Carrier.DATAMATRIX,
    SerialSpec(SerialGenerator.CSPRNG, SAFE_ALPHANUMERIC, 12, planned_volume=100_000_000),
    gs1_ais=("01", "17", "10", "21"),
)
CASE_RULE = CodingRule(
    "sscc-case",
    SchemeName.SSCC,
    Carrier.GS1_128,
    SerialSpec(SerialGenerator.CSPRNG, "0123456789", 9, planned_volume=1_000_000),
)
PRODUCT = ProductMaster("bench", "Bench", gtin="09501101530003", company_prefix="9501101")
SETTINGS = ExportSettings(zone=ZoneInfo("Asia/Shanghai"))
UNITS_PER_MINUTE = 600
OUTAGE_DAYS = 4


def progress(message: str) -> None:
    print(f"[bench/uplink {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the store -------------------------------------------------------------------------------


def site_store(directory: Path) -> Engine:
    engine = make_engine(f"sqlite:///{directory}/uplink.db")
    upgrade(engine)
    sync_master_data(
        engine,
        SiteIdentity("bench", "Bench", "91110000101623741K", "9501101", "9501101000001"),
        [UNIT_RULE, CASE_RULE],
        [PRODUCT],
        [
            ProductLevelSetup("bench", PackagingLevel.UNIT, UNIT_RULE),
            ProductLevelSetup("bench", PackagingLevel.CASE, CASE_RULE, 10),
        ],
        [LineSetup("line-1", "Line 1")],
    )
    return engine


def batch_with_codes(engine: Engine, lot: str, units: int) -> tuple[int, list[str], list[str]]:
    batch = create_batch(engine, product_id="bench", line_id="line-1", lot=lot, expiry=EXPIRY)
    allocator = CodeAllocator(engine)
    unit_keys = [code.key for code in allocator.allocate("line-1", batch, units)]
    case_keys = [
        code.key
        for code in allocator.allocate("line-1", batch, units // 10, level=PackagingLevel.CASE)
    ]
    return batch, unit_keys, case_keys


class TimedFeed:
    """The feed, timing its share of each transaction."""

    def __init__(self, feed: OutboxFeed) -> None:
        self.feed = feed
        self.seconds = 0.0
        self.events = 0

    def on_commit(self, conn: Connection, entries: Sequence[JournalEntry]) -> None:
        rows_before = _messages(conn)
        started = time.perf_counter()
        self.feed.on_commit(conn, entries)
        self.seconds += time.perf_counter() - started
        self.events += _messages(conn) - rows_before

    def discard(self) -> None:
        self.feed.discard()


def _messages(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM outbox_messages")).scalar_one())


def group_of_50(journal: Journal, batch: int, issued: list[str], fresh: list[str]) -> float:
    """Time of one commit: 25 units issued, the 25 issued before accepted."""
    events = [
        *(JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in fresh),
        *(JournalEvent(batch, EventKind.UNIT_ACCEPTED, code_key=k) for k in issued),
    ]
    started = time.perf_counter()
    journal.append_many(events)
    return (time.perf_counter() - started) * 1000


def outbox_cost(directory: Path, groups: int) -> dict[str, Any]:
    """Alternating groups with and without the feed, on two batches of one store."""
    engine = site_store(directory)
    units = 25 * (groups + 1)
    plain_batch, plain_keys, _ = batch_with_codes(engine, "PLAIN", units)
    fed_batch, fed_keys, _ = batch_with_codes(engine, "FED", units)
    timed = TimedFeed(OutboxFeed(Outbox(engine), ["hq"], SETTINGS))
    plain = Journal(engine, anchor_every_s=1.0)
    fed = Journal(engine, anchor_every_s=1.0, hook=timed)
    for journal, batch, keys in ((plain, plain_batch, plain_keys), (fed, fed_batch, fed_keys)):
        journal.append_many(
            [JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in keys[:25]]
        )
    timed.seconds, timed.events = 0.0, 0
    with_feed: list[float] = []
    without: list[float] = []
    for group in range(groups):
        issued = slice(group * 25, group * 25 + 25)
        fresh = slice(group * 25 + 25, group * 25 + 50)
        without.append(group_of_50(plain, plain_batch, plain_keys[issued], plain_keys[fresh]))
        with_feed.append(group_of_50(fed, fed_batch, fed_keys[issued], fed_keys[fresh]))
    engine.dispose()
    return {
        "groups": groups,
        "outbox_us_per_event": round(timed.seconds / timed.events * 1e6, 1),
        "commit_overhead_us_per_event": round(
            (statistics.median(with_feed) - statistics.median(without)) * 1000 / 25, 1
        ),
        "group50_ms_median_with_outbox": round(statistics.median(with_feed), 2),
        "group50_ms_median_without": round(statistics.median(without), 2),
    }


def disk_use(directory: Path, units: int) -> dict[str, Any]:
    """Database growth per message for a batch packed in cases of ten."""
    engine = site_store(directory)
    batch, keys, cases = batch_with_codes(engine, "DISK", units)
    journal = Journal(engine, anchor_every_s=1.0)
    journal.append_many([JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in keys])
    fed = Journal(engine, anchor_every_s=1.0, hook=OutboxFeed(Outbox(engine), ["hq"], SETTINGS))
    before = _database_bytes(engine)
    for start in range(0, units, 10):
        accepted = keys[start : start + 10]
        fed.append_many(
            [JournalEvent(batch, EventKind.UNIT_ACCEPTED, code_key=k) for k in accepted]
        )
        fed.append_many(
            [
                JournalEvent(
                    batch,
                    EventKind.AGGREGATED,
                    code_key=cases[start // 10],
                    data={"children": accepted, "level": "case"},
                )
            ]
        )
    grown = _database_bytes(engine) - before
    with engine.connect() as conn:
        messages = _messages(conn)
        body_bytes = int(
            conn.execute(
                text("SELECT sum(length(CAST(body AS BLOB))) FROM outbox_messages")
            ).scalar_one()
        )
    engine.dispose()
    per_event = grown / messages
    events_per_unit = messages / units
    outage_units = UNITS_PER_MINUTE * 60 * 24 * OUTAGE_DAYS
    return {
        "units": units,
        "messages": messages,
        "events_per_unit": round(events_per_unit, 3),
        "body_bytes_per_event": round(body_bytes / messages),
        "bytes_per_event": round(per_event),
        "outage_4_days_events": round(outage_units * events_per_unit),
        "outage_4_days_gb": round(outage_units * events_per_unit * per_event / 1e9, 2),
    }


def _database_bytes(engine: Engine) -> int:
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    return int((pages - free) * size)


# --- the backlog -----------------------------------------------------------------------------


def backlog_bodies(count: int) -> list[str]:
    """`count` commissioning events that differ in serial and eventID (made by text, not by
    the EPCIS builders, which would take longer than the drain)."""
    template = (
        '{"type":"ObjectEvent","eventTime":"2026-11-22T09:02:03.001+08:00",'
        '"eventTimeZoneOffset":"+08:00","eventID":"ni:///sha-256;%s?ver=CBV2.0",'
        '"epcList":["urn:epc:id:sgtin:9501101.053000.%s"],"action":"ADD",'
        '"bizStep":"commissioning","disposition":"active",'
        '"readPoint":{"id":"urn:epc:id:sgln:9501101.00000.0"},'
        '"bizLocation":{"id":"urn:epc:id:sgln:9501101.00000.0"},'
        '"ilmd":{"cbvmda:lotNumber":"AB-123","cbvmda:itemExpirationDate":"2027-05-31"}}'
    )
    bodies = []
    for index in range(count):
        serial = f"B{index:011d}"
        digest = hashlib.sha256(serial.encode()).hexdigest()
        bodies.append(template % (digest, serial))
    return bodies


def write_backlog(engine: Engine, bodies: list[str], destination: str) -> float:
    outbox = Outbox(engine, limits=OutboxLimits(max_rows=len(bodies) + 1, max_bytes=2**40))
    at = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
    started = time.perf_counter()
    for start in range(0, len(bodies), 10_000):
        chunk = bodies[start : start + 10_000]
        events = [
            OutgoingEvent(1, start + offset + 1, at, body) for offset, body in enumerate(chunk)
        ]
        with engine.begin() as conn:
            outbox.write(conn, "bench/line-1", [destination], events)
        if start and start % 200_000 == 0:
            progress(f"backlog: {start} messages written")
    return time.perf_counter() - started


async def drain(engine: Engine, host: str, port: int, destination: str, total: int) -> float:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    uplink = MqttUplink(
        destination, host, port, site_id="bench", topic_prefix=prefix, inflight=1000
    )
    dispatcher = Dispatcher(Outbox(engine), uplink, settings=DispatcherSettings(page=2000))
    started = time.perf_counter()
    reported = started
    try:
        while dispatcher.stats.delivered < total:
            if not await dispatcher.step() and dispatcher.stats.delivered < total:
                await asyncio.sleep(0.05)
            if time.perf_counter() - reported > 15:
                reported = time.perf_counter()
                progress(f"drain: {dispatcher.stats.delivered} of {total} delivered")
    finally:
        await uplink.close()
    return time.perf_counter() - started


async def raw_publish(host: str, port: int, bodies: list[str], window: int) -> float:
    """Baseline: the same payloads (one-message documents) published with QoS 1 by aiomqtt
    alone, `window` at a time, no database."""
    at = datetime.now(UTC)
    payloads = [
        document(
            [OutboxMessage(i, "raw", "bench/line-1", i + 1, 1, i + 1, at, "0" * 64, "0" * 64, b)],
            at,
        )
        for i, b in enumerate(bodies)
    ]
    topic = f"bench-{uuid.uuid4().hex[:8]}/bench/line-1/epcis"
    client = aiomqtt.Client(host, port, max_inflight_messages=1000)
    client.pending_calls_threshold = 10**9
    async with client:
        started = time.perf_counter()
        for start in range(0, len(payloads), window):
            await asyncio.gather(
                *(client.publish(topic, p, qos=1) for p in payloads[start : start + window])
            )
        return time.perf_counter() - started


def trace_latency(directory: Path, units: int) -> dict[str, Any]:
    """Trace query latency for any code of a `units`-unit batch in cases and pallets
    (bench/trace_query.py has the set-up and the measurement)."""
    engine = make_engine(f"sqlite:///{directory}/trace.db")
    try:
        codes, setup = build_batch(engine, units)
        measured = trace_query_ms_p99(engine, codes, queries=500)
    finally:
        engine.dispose()
    return {"units": units, "setup_s": {k: round(v, 1) for k, v in setup.items()}, **measured}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="100,000-message backlog, fewer groups"
    )
    parser.add_argument("--backlog", type=int, help="messages in the backlog (default 1,000,000)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    args = parser.parse_args(argv)
    backlog = args.backlog or (100_000 if args.quick else 1_000_000)
    groups = 40 if args.quick else 200
    result: dict[str, Any] = {
        "bench": "uplink",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "targets": TARGETS,
    }
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        (directory / "cost").mkdir()
        progress(f"outbox cost: {groups} groups of 50 journal events, with and without")
        result["outbox"] = outbox_cost(directory / "cost", groups)
        result["outbox_us_per_event"] = result["outbox"]["outbox_us_per_event"]
        (directory / "disk").mkdir()
        progress("disk use: 2,000 units in cases of ten")
        result["disk"] = disk_use(directory / "disk", 2000)
        (directory / "drain").mkdir()
        engine = site_store(directory / "drain")
        progress(f"backlog: generating {backlog} messages")
        bodies = backlog_bodies(backlog)
        written_s = write_backlog(engine, bodies, "broker")
        progress(f"backlog written in {written_s:.1f} s; draining to {args.host}:{args.port}")
        drain_s = asyncio.run(drain(engine, args.host, args.port, "broker", backlog))
        engine.dispose()
        sample = bodies[: min(backlog, 100_000)]
        progress(f"baseline: {len(sample)} bare aiomqtt publishes")
        raw_s = asyncio.run(raw_publish(args.host, args.port, sample, 2000))
        (directory / "trace").mkdir()
        trace_units = 10_000 if args.quick else 100_000
        progress(f"trace queries: a batch of {trace_units} units in cases and pallets")
        result["trace"] = trace_latency(directory / "trace", trace_units)
        result["trace_query_ms_p99"] = result["trace"]["trace_query_ms_p99"]
    scale = 1_000_000 / backlog
    result["drain"] = {
        "backlog": backlog,
        "backlog_write_s": round(written_s, 1),
        "drain_s": round(drain_s, 1),
        "messages_per_s": round(backlog / drain_s),
        "extrapolated": backlog != 1_000_000,
        "baseline_raw_publish_per_s": round(len(sample) / raw_s),
        "baseline_1m_s": round(raw_s * 1_000_000 / len(sample), 1),
        "drain_to_baseline": round(drain_s / backlog / (raw_s / len(sample)), 2),
    }
    result["drain_1m_s"] = round(drain_s * scale, 1)
    result["drain_1m_target_met"] = result["drain_1m_s"] <= TARGETS["drain_1m_s"]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
