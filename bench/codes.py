"""Benchmark: codes allocated and durably persisted per second on SQLite, and parse speed.

Baseline, measured in the same run on the same machine: the same codes (same generator, same
code factory) persisted with plain SQLAlchemy ORM inserts committed every 100 rows. Both run
with the store's engine settings (WAL, synchronous=FULL: a commit is on disk when it returns).

Prints one JSON object. Usage: python bench/codes.py [--total N] [--chunk N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from ebr.allocation import CodeAllocator
from ebr.catalog import LineSetup, ProductLevelSetup, SiteIdentity, create_batch, sync_master_data
from ebr.db import make_engine
from ebr.models import Allocation, Code, SerialPool
from ebr.schema import upgrade
from serialization.codes import SchemeName
from serialization.coding import CodeFactory
from serialization.gs1 import parse
from serialization.recognize import recognize
from serialization.rules import (
    Carrier,
    CodingRule,
    LotData,
    PackagingLevel,
    ProductMaster,
    SerialGenerator,
    SerialSpec,
)
from serialization.serials import SAFE_ALPHANUMERIC, CsprngSerials, SerialFormat
from serialization.states import CodeState

TARGET_ALLOC_PER_S = 50_000
TARGET_RATIO = 3.0
TARGET_PARSE_PER_S = 100_000
LOT = LotData("AB-123", expiry=date(2027, 5, 31))


def _rule(generator: SerialGenerator) -> CodingRule:
    spec = SerialSpec(generator, SAFE_ALPHANUMERIC, 12, planned_volume=100_000_000)
    return CodingRule(
        f"gs1-{generator.value}",
        SchemeName.GS1,
        Carrier.DATAMATRIX,
        spec,
        gs1_ais=("01", "17", "10", "21"),
    )


PRODUCTS = {
    "csprng": ProductMaster("csprng", "Bench A", gtin="09501101530003", company_prefix="9501101"),
    "ff1": ProductMaster("ff1", "Bench B", gtin="09501101530010", company_prefix="9501101"),
    "orm": ProductMaster("orm", "Bench C", gtin="09501101530027", company_prefix="9501101"),
}


def _store(directory: Path) -> Engine:
    engine = make_engine(f"sqlite:///{directory}/bench.db")
    upgrade(engine)
    rules = {name: _rule(SerialGenerator(name if name != "orm" else "csprng")) for name in PRODUCTS}
    sync_master_data(
        engine,
        SiteIdentity("bench", "Bench", "91110000101623741K", "9501101"),
        list({r.id: r for r in rules.values()}.values()),
        PRODUCTS.values(),
        [ProductLevelSetup(p, PackagingLevel.UNIT, rules[p]) for p in PRODUCTS],
        [LineSetup("line-1", "Line 1")],
    )
    return engine


def _batch(engine: Engine, product: str) -> int:
    return create_batch(
        engine, product_id=product, line_id="line-1", lot=LOT.lot, expiry=LOT.expiry
    )


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def bench_allocate(engine: Engine, product: str, total: int, chunk: int) -> float:
    allocator = CodeAllocator(engine, master_key=bytes(range(32)))
    batch = _batch(engine, product)
    allocator.allocate("line-1", batch, min(chunk, 1000))
    start = time.perf_counter()
    done = 0
    while done < total:
        done += len(allocator.allocate("line-1", batch, min(chunk, total - done)))
    return _rate(done, time.perf_counter() - start)


def bench_orm_baseline(engine: Engine, total: int) -> float:
    """Same codes, plain ORM: one object per code, commit every 100 rows."""
    batch = _batch(engine, "orm")
    factory = CodeFactory(_rule(SerialGenerator.CSPRNG), PRODUCTS["orm"], LOT)
    source = CsprngSerials(SerialFormat(SAFE_ALPHANUMERIC, 12))
    with engine.begin() as conn:
        pool_id = conn.execute(
            insert(SerialPool).values(
                product_id="orm",
                level="unit",
                kind="csprng",
                alphabet=SAFE_ALPHANUMERIC,
                length=12,
                next_counter=0,
                created_at=time_now(),
            )
        ).inserted_primary_key[0]
    start = time.perf_counter()
    with Session(engine) as session:
        allocation = Allocation(
            line_id="line-1", batch_id=batch, level="unit", count=total, created_at=time_now()
        )
        session.add(allocation)
        session.flush()
        for done in range(0, total, 100):
            for serial in source.draw(min(100, total - done)):
                code = factory.issue(serial)
                session.add(
                    Code(
                        key=code.key,
                        pool_id=pool_id,
                        serial=serial,
                        state=int(CodeState.ALLOCATED),
                        allocation_id=allocation.id,
                        data=code.data,
                    )
                )
            session.commit()
    return _rate(total, time.perf_counter() - start)


def time_now() -> datetime:
    return datetime.now(UTC)


def _gs1_strings(count: int) -> list[str]:
    factory = CodeFactory(_rule(SerialGenerator.CSPRNG), PRODUCTS["csprng"], LOT)
    serials = CsprngSerials(SerialFormat(SAFE_ALPHANUMERIC, 12)).draw(count)
    return ["]d2" + factory.issue(serial).data for serial in serials]


def bench_parse(strings: list[str], parse_one: Callable[[str], object]) -> float:
    start = time.perf_counter()
    for text in strings:
        parse_one(text)
    return _rate(len(strings), time.perf_counter() - start)


def _best_of(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    samples = [measure() for _ in range(runs)]
    return statistics.median(samples), samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total", type=int, default=200_000, help="codes per allocation run")
    parser.add_argument("--chunk", type=int, default=10_000, help="codes per allocate() call")
    parser.add_argument("--baseline-total", type=int, default=20_000)
    parser.add_argument("--parse", type=int, default=100_000, help="strings to parse")
    parser.add_argument("--runs", type=int, default=3, help="repetitions; the median is kept")
    parser.add_argument("--quick", action="store_true", help="small sizes, for the test suite")
    args = parser.parse_args(argv)
    if args.quick:
        args.total, args.chunk, args.baseline_total, args.parse, args.runs = (
            5_000,
            1_000,
            1_000,
            5_000,
            1,
        )

    def fresh(measure: Callable[[Engine], float]) -> Callable[[], float]:
        def run() -> float:
            with tempfile.TemporaryDirectory() as directory:
                engine = _store(Path(directory))
                try:
                    return measure(engine)
                finally:
                    engine.dispose()

        return run

    alloc, alloc_runs = _best_of(
        args.runs, fresh(lambda e: bench_allocate(e, "csprng", args.total, args.chunk))
    )
    baseline, baseline_runs = _best_of(
        args.runs, fresh(lambda e: bench_orm_baseline(e, args.baseline_total))
    )
    alloc_ff1, _ = _best_of(
        args.runs, fresh(lambda e: bench_allocate(e, "ff1", args.total, args.chunk))
    )
    alloc_1k, _ = _best_of(
        args.runs, fresh(lambda e: bench_allocate(e, "csprng", args.total // 4, 1_000))
    )
    strings = _gs1_strings(args.parse)
    parse_rate, parse_runs = _best_of(args.runs, lambda: bench_parse(strings, parse))
    recognize_rate, _ = _best_of(
        1, lambda: bench_parse(strings[: max(1, len(strings) // 5)], recognize)
    )
    ratio = round(alloc / baseline, 2)
    report = {
        "alloc_per_s": alloc,
        "baseline_per_s": baseline,
        "alloc_vs_baseline": ratio,
        "parse_per_s": parse_rate,
        "alloc_ff1_per_s": alloc_ff1,
        "alloc_chunk_1000_per_s": alloc_1k,
        "recognize_per_s": recognize_rate,
        "targets": {
            "alloc_per_s": TARGET_ALLOC_PER_S,
            "alloc_vs_baseline": TARGET_RATIO,
            "parse_per_s": TARGET_PARSE_PER_S,
        },
        "met": {
            "alloc_per_s": alloc >= TARGET_ALLOC_PER_S,
            "alloc_vs_baseline": ratio >= TARGET_RATIO,
            "parse_per_s": parse_rate >= TARGET_PARSE_PER_S,
        },
        "samples": {"alloc": alloc_runs, "baseline": baseline_runs, "parse": parse_runs},
        "setup": {
            "total": args.total,
            "chunk": args.chunk,
            "baseline_total": args.baseline_total,
            "parse_strings": args.parse,
            "runs": args.runs,
            "durability": "SQLite WAL, synchronous=FULL, one transaction per allocate() call",
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(),
            "load_avg": os.getloadavg(),
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
