"""`python -m chaos.soak`: the line at 600 units/min for N minutes with a fault every few
minutes; each minute the gateway process's resident memory (/proc), its open files (/proc) and
its event loop's task count (chaos.soak_gateway), the last two the fewest of the minute's
samples (a leaked file or task is in every one, a reconnect in flight is not), and the
minute's verdict latency percentiles (the /metrics histogram's increase). The report compares
the first sample after warm-up with the last and says "flat" when memory stayed within ±10 %
and files and tasks did not grow."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from chaos.bench import Bench, bench
from chaos.trials import CAMERA, PRINTER
from simulators.camera.server import CameraServer
from simulators.faults import Faults
from simulators.ports import free_port

WARM_UP_MINUTES = 2
MEMORY_BAND = 0.10
BUCKET = re.compile(r'^tracegate_verdict_latency_seconds_bucket\{[^}]*\ble="([^"]+)"[^}]*\} (\S+)$')
"""A bucket of the histogram, whatever the order of its labels (prometheus-client writes `le`
first)."""
FAULTS = ("printer_disconnect", "camera_garbage", "plc_disconnect", "uplink_outage")


@dataclass
class Sample:
    minute: int
    rss_mb: float
    open_fds: int
    tasks: int | None
    units: int
    p50_ms: float | None
    p99_ms: float | None


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _buckets(port: int) -> dict[float, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    found: dict[float, float] = {}
    for line in text.splitlines():
        match = BUCKET.match(line)
        if match:
            bound = float("inf") if match[1] == "+Inf" else float(match[1])
            found[bound] = found.get(bound, 0.0) + float(match[2])
    return found


def _percentile(delta: dict[float, float], fraction: float) -> float | None:
    total = delta.get(float("inf"), 0.0)
    if total <= 0:
        return None
    for bound in sorted(delta):
        if delta[bound] >= fraction * total:
            return bound * 1000
    return None


def _fewest_tasks(path: Path, since: float) -> int | None:
    """The fewest tasks the event loop had in the samples taken since `since` (epoch seconds):
    a task that leaked is in every one; a reconnect or a thread hand-off in flight is not."""
    if not path.exists():
        return None
    counts = [
        int(count)
        for at, count in (line.split() for line in path.read_text(encoding="ascii").splitlines())
        if float(at) >= since
    ]
    return min(counts) if counts else None


async def _fault(line: Bench, kind: str) -> None:
    if kind == "printer_disconnect":
        await line.simulation.disconnect_printer(PRINTER)
    elif kind == "camera_garbage":
        camera = line.simulation.cameras[CAMERA]
        assert isinstance(camera, CameraServer)
        camera.faults = Faults(garbage_rate=0.3)
        await asyncio.sleep(2)
        camera.faults = Faults()
    elif kind == "plc_disconnect":
        assert line.simulation.plc is not None
        await line.simulation.plc.drop_subscriptions()
    elif kind == "uplink_outage" and line.broker is not None:
        await asyncio.to_thread(line.broker.stop)
        await asyncio.sleep(10)
        await asyncio.to_thread(line.broker.start)


def verdict(samples: list[Sample]) -> dict[str, Any]:
    after = [s for s in samples if s.minute > WARM_UP_MINUTES] or samples[-1:]
    first, last = after[0], after[-1]
    rss_change = (last.rss_mb - first.rss_mb) / first.rss_mb
    fd_growth = last.open_fds - first.open_fds
    task_growth = (last.tasks or 0) - (first.tasks or 0)
    flat = abs(rss_change) <= MEMORY_BAND and fd_growth <= 0 and task_growth <= 0
    return {
        "verdict": "flat" if flat else "growing",
        "first": asdict(first),
        "last": asdict(last),
        "rss_change_pct": round(100 * rss_change, 1),
        "open_fd_growth": fd_growth,
        "task_growth": task_growth,
        "rss_max_mb": max(s.rss_mb for s in after),
    }


async def soak(minutes: float, fault_every_min: float, workdir: Path, report: Path) -> int:
    samples: list[Sample] = []
    faults: list[dict[str, Any]] = []
    tasks_file = workdir / "tasks.txt"
    port = free_port()
    async with bench(workdir, seed=7, uplinks=True) as line:
        line.gateway.launcher = ("-m", "chaos.soak_gateway", str(tasks_file))
        pid = line.gateway.start("--http", f"127.0.0.1:{port}").pid
        await line.gateway.until_printing(line.simulation, 10)
        started = time.monotonic()
        previous = _buckets(port)
        next_fault = fault_every_min
        for minute in range(1, int(minutes) + 1):
            open_fds: list[int] = []
            while time.monotonic() < started + 60 * minute:
                open_fds.append(_open_fds(pid))
                if not line.gateway.running():
                    raise RuntimeError(f"the gateway stopped:\n{line.gateway.tail()}")
                if time.monotonic() >= started + 60 * next_fault:
                    kind = FAULTS[len(faults) % len(FAULTS)]
                    faults.append(
                        {"minute": round((time.monotonic() - started) / 60, 2), "fault": kind}
                    )
                    await _fault(line, kind)
                    next_fault += fault_every_min
                await asyncio.sleep(1)
            now = _buckets(port)
            delta = {bound: now.get(bound, 0.0) - previous.get(bound, 0.0) for bound in now}
            previous = now
            sample = Sample(
                minute,
                round(_rss_mb(pid), 1),
                min(open_fds) if open_fds else _open_fds(pid),
                _fewest_tasks(tasks_file, time.time() - 60),
                int(delta.get(float("inf"), 0.0)),
                _percentile(delta, 0.50),
                _percentile(delta, 0.99),
            )
            samples.append(sample)
            print(json.dumps(asdict(sample)), flush=True)
        line.gateway.kill()
    result = {
        "minutes": minutes,
        "rate_upm": 600,
        "warm_up_minutes": WARM_UP_MINUTES,
        "faults": faults,
        **verdict(samples),
        "samples": [asdict(s) for s in samples],
    }
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    first, last = result["first"], result["last"]
    print(
        f"soak: {result['verdict']}; RSS {first['rss_mb']} → {last['rss_mb']} MB "
        f"({result['rss_change_pct']} %), fds {first['open_fds']} → {last['open_fds']}, "
        f"tasks {first['tasks']} → {last['tasks']}; report {report}"
    )
    return 0 if result["verdict"] == "flat" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chaos.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--fault-every", type=float, default=3.0, metavar="MIN")
    parser.add_argument("--workdir", type=Path, default=Path("var/chaos/soak"))
    parser.add_argument("--report", type=Path, default=Path("var/chaos/soak.json"))
    args = parser.parse_args(argv)
    if args.minutes < WARM_UP_MINUTES + 1:
        parser.error(f"--minutes {args.minutes}: at least {WARM_UP_MINUTES + 1} (warm-up + 1)")
    shutil.rmtree(args.workdir, ignore_errors=True)
    return asyncio.run(soak(args.minutes, args.fault_every, args.workdir, args.report))


if __name__ == "__main__":
    sys.exit(main())
