"""Benchmark: the line's live reconciliation check, run every second, on a long batch.

Baseline, measured in the same run: the same ledger reconciled over sets of keys (what the
check did before it answered from counts, and still does to name a drift). Also the ledger's
traced memory a unit (keys excluded: they belong to the codes).

Prints one JSON object. Usage: python bench/reconcile.py [--units N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable

from gateway.line.ledger import CodeLedger
from serialization.reconciliation import Reconciliation, reconcile, reconciled

BUFFERED = 200


def _ledger(keys: list[str]) -> CodeLedger:
    ledger = CodeLedger()
    for index, key in enumerate(keys):
        ledger.issue(key)
        if index % 50 == 0:
            ledger.reject(key)
        elif index < len(keys) - 20:
            ledger.accept(key)
    return ledger


def _median_ms(check: Callable[[], Reconciliation], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        assert check().balanced
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=36_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    keys = [f"0106901234567890{21}{n:012d}" for n in range(args.units)]
    buffered = frozenset(f"buffered-{n}" for n in range(BUFFERED))
    tracemalloc.start()
    ledger = _ledger(keys)
    ledger_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    allocated = args.units + BUFFERED

    def by_counts() -> Reconciliation:
        balanced = ledger.balanced(allocated, BUFFERED)
        counts = {"allocated": allocated, "buffered": BUFFERED, **ledger.counts()}
        return (
            reconciled(counts)
            if balanced
            else reconcile(
                ledger.snapshot(allocated=buffered | frozenset(ledger.issued), buffered=buffered)
            )
        )

    def by_sets() -> Reconciliation:
        known = buffered | frozenset(ledger.issued)
        return reconcile(ledger.snapshot(allocated=known, buffered=buffered))

    counts_ms = _median_ms(by_counts, args.repeat)
    sets_ms = _median_ms(by_sets, args.repeat)
    print(
        json.dumps(
            {
                "units": args.units,
                "check_by_counts_ms": round(counts_ms, 4),
                "baseline_check_by_sets_ms": round(sets_ms, 3),
                "speedup": round(sets_ms / counts_ms, 1),
                "ledger_bytes_per_unit": round(ledger_bytes / args.units, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
