"""Benchmark: the device layer, each figure with its baseline measured in the same run.

- Modbus: tags per second with merged reads (the planner) vs one request per tag.
- OPC UA: values per second with one batched read request vs one request per node.
- Camera: 1280x1024 mono8 frames per second over loopback TCP through our parser, vs the same
  bytes received without parsing.

Every server is a simulator on 127.0.0.1. Prints one JSON object.
Usage: python bench/devices.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devices_camera
import devices_modbus
import devices_opcua


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, for the test suite")
    args = parser.parse_args(argv)
    seconds = 0.3 if args.quick else 2.0
    report: dict[str, object] = {}
    report.update(devices_modbus.measure(seconds=seconds))
    report.update(devices_opcua.measure(seconds=seconds))
    report.update(
        devices_camera.measure(frames=20 if args.quick else 300, repeats=1 if args.quick else 3)
    )
    report["setup"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "quick": args.quick,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
