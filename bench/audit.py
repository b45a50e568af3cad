"""Benchmark: audit entries appended per second with signed checkpoints on, and verified per
second, on SQLite with the store's durability settings (WAL, synchronous=FULL).

Appends are group-committed: `--batch` entries per transaction, an Ed25519 checkpoint every
`--every` entries. Baseline, measured in the same run on the same machine: the same entries
appended one per transaction (what a naive trail does), checkpoints on as well.
`verify_per_s` is the live-database verification (read every row, recompute every hash and
link, check every checkpoint signature); `verify_bundle_per_s` the offline verifier alone.

Prints one JSON object. Usage: python bench/audit.py [--total N] [--batch N] [--quick]
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
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from ebr.audit.bundle import build_bundle, verify_database
from ebr.audit.checkpoints import SiteKey
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.audit.verifier import verify_bundle
from ebr.db import make_engine
from ebr.schema import upgrade

TARGET_APPEND_PER_S = 10_000


def _events(start: int, count: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            "code_state_changed",
            "code",
            f"0109501101530003217X{start + i:012d}",
            action="modify",
            old={"state": 3},
            new={"state": 4, "line": "line-1", "camera": "cam-1"},
            reason="verified by the camera",
            user_id=12,
            username="olga",
        )
        for i in range(count)
    ]


def _trail(directory: Path, every: int) -> AuditTrail:
    engine = make_engine(f"sqlite:///{directory}/audit.db")
    upgrade(engine)
    key = SiteKey.from_private(Ed25519PrivateKey.generate())
    return AuditTrail(engine, site_key=key, checkpoint_every=every)


def bench_append(trail: AuditTrail, total: int, batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, total, batch):
        trail.append(_events(start, min(batch, total - start)))
    return total / (time.perf_counter() - started)


def bench_verify(engine: Engine) -> tuple[float, float, int]:
    started = time.perf_counter()
    report = verify_database(engine)
    live = report.entries / (time.perf_counter() - started)
    if not report.ok:
        raise SystemExit("the benchmark's own trail does not verify: " + "; ".join(report.lines()))
    with engine.connect() as conn:
        bundle = build_bundle(conn)
    started = time.perf_counter()
    verify_bundle(bundle)
    offline = report.entries / (time.perf_counter() - started)
    return live, offline, report.checkpoints


def _median(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    samples = [round(measure()) for _ in range(runs)]
    return round(statistics.median(samples)), samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total", type=int, default=100_000, help="entries per append run")
    parser.add_argument("--batch", type=int, default=1_000, help="entries per transaction")
    parser.add_argument("--every", type=int, default=1_000, help="entries per checkpoint")
    parser.add_argument("--baseline-total", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=3, help="repetitions; the median is kept")
    parser.add_argument("--quick", action="store_true", help="small sizes, for the test suite")
    args = parser.parse_args(argv)
    if args.quick:
        args.total, args.baseline_total, args.runs = 5_000, 300, 1

    checkpoints: list[int] = []
    verify_live: list[float] = []
    verify_offline: list[float] = []

    def grouped() -> float:
        with tempfile.TemporaryDirectory() as directory:
            trail = _trail(Path(directory), args.every)
            try:
                rate = bench_append(trail, args.total, args.batch)
                live, offline, signed = bench_verify(trail.engine)
                verify_live.append(live)
                verify_offline.append(offline)
                checkpoints.append(signed)
                return rate
            finally:
                trail.engine.dispose()

    def one_by_one() -> float:
        with tempfile.TemporaryDirectory() as directory:
            trail = _trail(Path(directory), args.every)
            try:
                return bench_append(trail, args.baseline_total, 1)
            finally:
                trail.engine.dispose()

    append, append_runs = _median(args.runs, grouped)
    baseline, baseline_runs = _median(args.runs, one_by_one)
    report = {
        "append_per_s": append,
        "verify_per_s": round(statistics.median(verify_live)),
        "verify_bundle_per_s": round(statistics.median(verify_offline)),
        "baseline_per_s": baseline,
        "baseline": "the same entries appended one per transaction, checkpoints on",
        "append_vs_baseline": round(append / baseline, 1),
        "targets": {"append_per_s": TARGET_APPEND_PER_S},
        "met": {"append_per_s": append >= TARGET_APPEND_PER_S},
        "samples": {"append": append_runs, "baseline": baseline_runs},
        "setup": {
            "total": args.total,
            "batch": args.batch,
            "checkpoint_every": args.every,
            "checkpoints_signed": checkpoints[0] if checkpoints else 0,
            "baseline_total": args.baseline_total,
            "runs": args.runs,
            "durability": "SQLite WAL, synchronous=FULL, one transaction per batch",
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
