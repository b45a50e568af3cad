"""Benchmark: production-journal events per second on SQLite with the store's durability
settings (WAL, synchronous=FULL), group-committed vs one commit per event.

Group commit: a `JournalWriter` (window 2 ms) fed by `--submitters` concurrent tasks, each
journaling its own units one event at a time (issued, then accepted) and waiting until each is
durable, as the line runtime does. Baseline, in the same run on the same machine: the same
events, one `Journal.append_many` call (one transaction, one fsync) per event.
`group50_ms` is the time of one `append_many` of 50 unit events (25 issued, 25 accepted);
`raw_sqlite_commit_ms` a one-row commit through sqlite3 alone, the disk's share of it.

Prints one JSON object. Usage: python bench/journal.py [--units N] [--submitters N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.catalog import LineSetup, ProductLevelSetup, SiteIdentity, create_batch, sync_master_data
from ebr.db import make_engine
from ebr.journal import EventKind, Journal, JournalEvent, JournalWriter, verify_journal
from ebr.schema import upgrade
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

TARGET_GROUP50_MS = 20.0
EXPIRY = date(2027, 5, 31)
RULE = CodingRule(
    "gs1-csprng",
    SchemeName.GS1,
    Carrier.DATAMATRIX,
    SerialSpec(SerialGenerator.CSPRNG, SAFE_ALPHANUMERIC, 12, planned_volume=100_000_000),
    gs1_ais=("01", "17", "10", "21"),
)
PRODUCT = ProductMaster("bench", "Bench", gtin="09501101530003", company_prefix="9501101")


def _store(directory: Path) -> Engine:
    engine = make_engine(f"sqlite:///{directory}/journal.db")
    upgrade(engine)
    sync_master_data(
        engine,
        SiteIdentity("bench", "Bench", "91110000101623741K", "9501101"),
        [RULE],
        [PRODUCT],
        [ProductLevelSetup("bench", PackagingLevel.UNIT, RULE)],
        [LineSetup("line-1", "Line 1")],
    )
    return engine


def _batch_with_codes(engine: Engine, lot: str, units: int) -> tuple[int, list[str]]:
    batch = create_batch(engine, product_id="bench", line_id="line-1", lot=lot, expiry=EXPIRY)
    codes = CodeAllocator(engine).allocate("line-1", batch, units)
    return batch, [code.key for code in codes]


def _unit_events(batch: int, key: str) -> list[JournalEvent]:
    return [
        JournalEvent(batch, EventKind.UNIT_ISSUED, unit_ref=f"u-{key[-6:]}", code_key=key),
        JournalEvent(batch, EventKind.UNIT_ACCEPTED, unit_ref=f"u-{key[-6:]}", code_key=key),
    ]


async def _group_commit(journal: Journal, batch: int, keys: list[str], submitters: int) -> dict:
    writer = JournalWriter(journal, window_s=0.002)
    await writer.start()

    async def submitter(own: list[str]) -> None:
        for key in own:
            for event in _unit_events(batch, key):
                await writer.append(event)

    started = time.perf_counter()
    await asyncio.gather(*(submitter(keys[i::submitters]) for i in range(submitters)))
    elapsed = time.perf_counter() - started
    await writer.close()
    return {
        "events": writer.events_written,
        "seconds": elapsed,
        "commits": writer.commits,
    }


def _one_commit_per_event(journal: Journal, batch: int, keys: list[str]) -> dict:
    started = time.perf_counter()
    for key in keys:
        for event in _unit_events(batch, key):
            journal.append_many([event])
    return {"events": 2 * len(keys), "seconds": time.perf_counter() - started}


def _group50(journal: Journal, batch: int, keys: list[str], runs: int) -> list[float]:
    timings = []
    for run in range(runs):
        issued_before = keys[run * 50 : run * 50 + 25]
        fresh = keys[run * 50 + 25 : run * 50 + 50]
        journal.append_many(
            [JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in issued_before]
        )
        events = [
            *(JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in fresh),
            *(JournalEvent(batch, EventKind.UNIT_ACCEPTED, code_key=k) for k in issued_before),
        ]
        started = time.perf_counter()
        journal.append_many(events)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _raw_commit_ms(directory: Path, runs: int) -> list[float]:
    """One-row commits straight through sqlite3 with the same settings: the disk's share."""
    con = sqlite3.connect(directory / "raw.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (x INTEGER)")
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t VALUES (1)")
        con.execute("COMMIT")
        timings.append((time.perf_counter() - started) * 1000)
    con.close()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--submitters", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="a small run for the test suite")
    args = parser.parse_args(argv)
    units = 120 if args.quick else args.units
    runs = 5 if args.quick else 30
    with tempfile.TemporaryDirectory() as tmp:
        engine = _store(Path(tmp))
        grouped_batch, grouped_keys = _batch_with_codes(engine, "GROUP", units)
        single_batch, single_keys = _batch_with_codes(engine, "SINGLE", units)
        g50_batch, g50_keys = _batch_with_codes(engine, "G50", runs * 50)
        journal = Journal(engine)
        single = _one_commit_per_event(journal, single_batch, single_keys)
        grouped = asyncio.run(
            _group_commit(Journal(engine), grouped_batch, grouped_keys, args.submitters)
        )
        group50 = _group50(journal, g50_batch, g50_keys, runs)
        raw_commit = _raw_commit_ms(Path(tmp), runs)
        verified = all(
            verify_journal(engine, batch).ok and verify_journal(engine, batch).states_match
            for batch in (grouped_batch, single_batch, g50_batch)
        )
        engine.dispose()
    grouped_per_s = grouped["events"] / grouped["seconds"]
    single_per_s = single["events"] / single["seconds"]
    g50_median = statistics.median(group50)
    report = {
        "events": grouped["events"],
        "submitters": args.submitters,
        "window_ms": 2.0,
        "group_commit_events_per_s": round(grouped_per_s, 1),
        "group_commit_commits": grouped["commits"],
        "events_per_commit": round(grouped["events"] / grouped["commits"], 2),
        "baseline_one_commit_per_event_per_s": round(single_per_s, 1),
        "group_vs_baseline": round(grouped_per_s / single_per_s, 2),
        "group50_ms_median": round(g50_median, 2),
        "group50_ms_max": round(max(group50), 2),
        "raw_sqlite_commit_ms_median": round(statistics.median(raw_commit), 2),
        "verified": verified,
        "met": ["group50_ms"] if g50_median < TARGET_GROUP50_MS else [],
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
        },
    }
    print(json.dumps(report, indent=2))
    return 0 if verified else 1


if __name__ == "__main__":
    sys.exit(main())
