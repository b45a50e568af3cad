"""`tracegate vision bench`: decode + verify speed per frame against the pylibdmtx baseline."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from gateway.commands.common import fail


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("vision", help="camera vision: benchmark decode and verify")
    sub = parser.add_subparsers(dest="vision_command", required=True)
    bench = sub.add_parser(
        "bench",
        help="decode + verify per 1280x1024 frame with ROI on one core, against pylibdmtx",
        description=(
            "Frames come from the seeded camera simulator: the issue's hard set (faint dot "
            "print, scratches) for the timings, a mixed defect corpus for false accepts and "
            "good-accept rate. Prints one JSON object."
        ),
    )
    bench.add_argument(
        "--frames",
        type=int,
        default=200,
        help="1280x1024 frames per set (hard set and mixed corpus); the 640x480 group gets half",
    )
    bench.add_argument("--seed", type=int, default=7, help="seed of the simulated frames")
    bench.add_argument("--json", action="store_true", help="print JSON (the only output form)")
    bench.set_defaults(run=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    if args.frames < 13:
        fail(
            f"--frames {args.frames} is too few",
            hint="use at least 13 frames, one per defect family",
        )
    report = _benchmark().run(args.frames, args.seed)
    print(json.dumps(report, indent=None if args.json else 2))
    return 0


def _benchmark() -> Any:
    """bench/vision.py of this checkout (bench/ is not an installed package)."""
    path = Path(__file__).resolve().parents[2] / "bench" / "vision.py"
    spec = importlib.util.spec_from_file_location("tracegate_bench_vision", path)
    if spec is None or spec.loader is None or not path.is_file():
        fail(
            f"the vision benchmark {path} is missing",
            hint="run the command from a checkout of the repository",
        )
    if spec.name in sys.modules:
        return sys.modules[spec.name]
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
