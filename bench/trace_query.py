"""Benchmark: trace query latency for any code of a 100,000-unit batch (issue 8, target < 100 ms
p99), on the gateway's SQLite store (or PostgreSQL with --database-url).

Set-up: 100,000 units allocated and journaled issued and accepted (`Journal.append_many`,
10,000 events a transaction), packed 20 to a case and 50 cases to a pallet (5,000 cases, 100
pallets); its times are reported. Then codes drawn at random from every level are traced as the
API traces them: the printed text resolved to a key (`find_code_key`) and `trace_code` (history,
containers, contents, batch and product). A pallet's answer holds its 1,050 codes.

Prints one JSON object. `trace_query_ms_p99(...)` is the part `bench/uplink.py` reports as its
key `trace_query_ms_p99`. Usage: python bench/trace_query.py [--units N] [--queries N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.catalog import LineSetup, ProductLevelSetup, SiteIdentity, create_batch, sync_master_data
from ebr.code_lookup import find_code_key
from ebr.db import make_engine
from ebr.journal import EventKind, Journal, JournalEntry, JournalEvent
from ebr.schema import upgrade
from ebr.trace import trace_code
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

TARGET_MS = 100.0
UNITS_PER_CASE = 20
CASES_PER_PALLET = 50
EVENTS_PER_COMMIT = 10_000
ALLOCATION_CHUNK = 20_000
UNIT_RULE = CodingRule(
    "unit",
    SchemeName.GS1,
    Carrier.DATAMATRIX,
    SerialSpec(SerialGenerator.CSPRNG, SAFE_ALPHANUMERIC, 12, planned_volume=100_000_000),
    gs1_ais=("01", "17", "10", "21"),
)
SSCC_RULE = CodingRule(
    "sscc",
    SchemeName.SSCC,
    Carrier.GS1_128,
    SerialSpec(SerialGenerator.CSPRNG, "0123456789", 9, planned_volume=100_000_000),
)
PRODUCT = ProductMaster("bench", "Bench", gtin="09501101530003", company_prefix="9501101")


def build_batch(engine: Engine, units: int) -> tuple[dict[str, list[str]], dict[str, float]]:
    """A finished batch of `units` units in cases and pallets: its codes by level, and how long
    each step of the set-up took (seconds)."""
    upgrade(engine)
    sync_master_data(
        engine,
        SiteIdentity("bench", "Bench", "91110000101623741K", "9501101", "9501101000001"),
        [UNIT_RULE, SSCC_RULE],
        [PRODUCT],
        [
            ProductLevelSetup("bench", PackagingLevel.UNIT, UNIT_RULE),
            ProductLevelSetup("bench", PackagingLevel.CASE, SSCC_RULE, UNITS_PER_CASE),
            ProductLevelSetup("bench", PackagingLevel.PALLET, SSCC_RULE, CASES_PER_PALLET),
        ],
        [LineSetup("line-1", "Line 1")],
    )
    batch = create_batch(
        engine, product_id="bench", line_id="line-1", lot="TRACE", expiry=date(2028, 1, 31)
    )
    times: dict[str, float] = {}
    started = time.perf_counter()
    allocator = CodeAllocator(engine)
    unit_keys: list[str] = []
    for start in range(0, units, ALLOCATION_CHUNK):
        count = min(ALLOCATION_CHUNK, units - start)
        unit_keys += [code.key for code in allocator.allocate("line-1", batch, count)]
    case_count = -(-units // UNITS_PER_CASE)
    pallet_count = -(-case_count // CASES_PER_PALLET)
    cases = [
        c.key for c in allocator.allocate("line-1", batch, case_count, level=PackagingLevel.CASE)
    ]
    pallets = [
        c.key
        for c in allocator.allocate("line-1", batch, pallet_count, level=PackagingLevel.PALLET)
    ]
    times["allocate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    journal = Journal(engine)
    half = EVENTS_PER_COMMIT // 2
    for start in range(0, units, half):
        chunk = unit_keys[start : start + half]
        _append(
            journal,
            [JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in chunk]
            + [JournalEvent(batch, EventKind.UNIT_ACCEPTED, code_key=k) for k in chunk],
        )
    times["journal_units_s"] = time.perf_counter() - started

    started = time.perf_counter()
    packs = [
        _packed(batch, case, unit_keys[n * UNITS_PER_CASE : (n + 1) * UNITS_PER_CASE], "case")
        for n, case in enumerate(cases)
    ] + [
        _packed(batch, pallet, cases[n * CASES_PER_PALLET : (n + 1) * CASES_PER_PALLET], "pallet")
        for n, pallet in enumerate(pallets)
    ]
    for start in range(0, len(packs), 1000):
        _append(journal, packs[start : start + 1000])
    _append(journal, [JournalEvent(batch, EventKind.BATCH_PHASE, data={"to": "reconciled"})])
    times["journal_packing_s"] = time.perf_counter() - started
    return {"unit": unit_keys, "case": cases, "pallet": pallets}, times


def _packed(batch: int, parent: str, children: list[str], level: str) -> JournalEvent:
    return JournalEvent(
        batch, EventKind.AGGREGATED, code_key=parent, data={"children": children, "level": level}
    )


def _append(journal: Journal, events: list[JournalEvent]) -> None:
    results = journal.append_many(events)
    refused = [r for r in results if not isinstance(r, JournalEntry)]
    if refused:
        raise RuntimeError(f"the journal refused {len(refused)} set-up events: {refused[0]}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def trace_query_ms_p99(
    engine: Engine, codes: dict[str, list[str]], queries: int, seed: int = 8
) -> dict[str, Any]:
    """Trace `queries` codes drawn at random: every level gets a share, units the most."""
    rng = random.Random(seed)
    shares = {"unit": 0.6, "case": 0.3, "pallet": 0.1}
    timings: dict[str, list[float]] = {level: [] for level in codes}
    for _warm in range(3):
        trace_code(engine, codes["unit"][0])
    for level, share in shares.items():
        for key in rng.choices(codes[level], k=max(1, round(queries * share))):
            started = time.perf_counter()
            found = trace_code(engine, find_code_key(engine, key))
            timings[level].append((time.perf_counter() - started) * 1000)
            if found is None:
                raise RuntimeError(f"code {key} was not traced")
    every = [ms for values in timings.values() for ms in values]
    return {
        "trace_query_ms_p99": round(percentile(every, 0.99), 2),
        "trace_query_ms_p50": round(statistics.median(every), 2),
        "trace_query_ms_max": round(max(every), 2),
        "trace_query_ms_p99_by_level": {
            level: round(percentile(values, 0.99), 2) for level, values in timings.items()
        },
        "queries": len(every),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--database-url", help="default: a fresh SQLite store in a temp folder")
    parser.add_argument("--quick", action="store_true", help="a small run for the test suite")
    args = parser.parse_args(argv)
    units = 2_000 if args.quick else args.units
    queries = 50 if args.quick else args.queries
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.database_url or f"sqlite:///{Path(tmp)}/trace.db")
        try:
            codes, setup = build_batch(engine, units)
            result = trace_query_ms_p99(engine, codes, queries)
        finally:
            engine.dispose()
    report = {
        "units": units,
        "cases": len(codes["case"]),
        "pallets": len(codes["pallet"]),
        "setup_s": {name: round(seconds, 2) for name, seconds in setup.items()},
        **result,
        "target_ms_p99": TARGET_MS,
        "met": ["trace_query_ms_p99"] if result["trace_query_ms_p99"] < TARGET_MS else [],
        "database": engine.dialect.name,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
