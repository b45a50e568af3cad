"""`make fuzz`: every target with a large budget; a JSON summary on stdout.

With atheris installed each target runs under libFuzzer in a child process (`-runs=N`); without
it, hypothesis runs each target's strategy for N examples. N is `FUZZ_EXAMPLES` (default
20000). Crashing inputs are kept in var/fuzz/. Exit status 1 if any target failed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
ARTIFACTS = ROOT / "var" / "fuzz"
PRODUCT_PACKAGES = ["serialization", "config", "drivers", "ebr", "gateway", "fuzz"]


def _atheris_child(target: str, runs: int) -> None:
    import atheris  # noqa: PLC0415 - optional engine, only in its child process

    with atheris.instrument_imports(include=PRODUCT_PACKAGES):
        from fuzz.registry import TARGETS  # noqa: PLC0415 - imported under instrumentation
    harness = TARGETS[target]
    argv = [
        sys.argv[0],
        f"-runs={runs}",
        "-max_len=4096",
        f"-artifact_prefix={ARTIFACTS}/{target}-",
    ]
    atheris.Setup(argv, harness)
    atheris.Fuzz()


def _run_atheris(target: str, runs: int) -> dict[str, Any]:
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--atheris-child", target, str(runs)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    failed = done.returncode != 0
    return {
        "target": target,
        "engine": "atheris",
        "examples": runs,
        "seconds": round(time.monotonic() - started, 1),
        "failures": [done.stderr[-4000:]] if failed else [],
    }


def _run_hypothesis(target: str, examples: int) -> dict[str, Any]:
    from fuzz.registry import TARGETS  # noqa: PLC0415 - after sys.path is set
    from fuzz.strategies import STRATEGIES  # noqa: PLC0415 - after sys.path is set

    harness, count = TARGETS[target], [0]

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(STRATEGIES[target])
    def run(data: bytes) -> None:
        count[0] += 1
        harness(data)

    started, failures = time.monotonic(), []
    try:
        run()
    except Exception as error:
        failures.append(f"{type(error).__name__}: {error}"[:4000])
    return {
        "target": target,
        "engine": "hypothesis",
        "examples": count[0],
        "seconds": round(time.monotonic() - started, 1),
        "failures": failures,
    }


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--atheris-child":
        _atheris_child(sys.argv[2], int(sys.argv[3]))
        return 0
    from fuzz.registry import TARGETS  # noqa: PLC0415 - after sys.path is set

    examples = int(os.environ.get("FUZZ_EXAMPLES", "20000"))
    chosen = sys.argv[1:] or list(TARGETS)
    unknown = [name for name in chosen if name not in TARGETS]
    if unknown:
        print(f"error: no fuzz target {', '.join(unknown)}", file=sys.stderr)
        print(f"  fix: name one of {', '.join(sorted(TARGETS))}, or none for all", file=sys.stderr)
        return 2
    use_atheris = os.environ.get("FUZZ_ENGINE", "atheris") == "atheris" and bool(
        importlib.util.find_spec("atheris")
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    runner = _run_atheris if use_atheris else _run_hypothesis
    results = [runner(target, examples) for target in chosen]
    summary = {
        "engine": "atheris" if use_atheris else "hypothesis",
        "examples_per_target": examples,
        "targets": results,
        "failed_targets": [r["target"] for r in results if r["failures"]],
    }
    print(json.dumps(summary, indent=2))
    return 1 if summary["failed_targets"] else 0


if __name__ == "__main__":
    sys.exit(main())
