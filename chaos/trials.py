"""The faults, one trial each. A trial starts the gateway, does its damage, ends the gateway
(SIGKILL unless the fault itself stops it) and returns what it did and the checks only it can
make; the runner then checks the invariants."""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.bench import Bench, until
from chaos.environments import jump_clock, shifted_clock, slow_fsync
from chaos.line import sent
from chaos.report import InvariantResult
from simulators.camera.server import CameraServer
from simulators.faults import Faults
from simulators.printer import PrinterSimulator

PRINTER = "printer-1"
CAMERA = "camera-1"
GATE_SETTLE_S = 2.0
"""After a kill the line runs on: units in flight reach the fail-safe gate (8 pitches at
10 units/s) before the truth is read."""
RESUME_TIMEOUT_S = 90.0
DRAIN_TIMEOUT_S = 120.0
DEVICE_FAULTS = (
    "printer_disconnect",
    "camera_disconnect",
    "plc_disconnect",
    "printer_garbage",
    "camera_garbage",
)


@dataclass
class TrialOutcome:
    fault: dict[str, Any] = field(default_factory=dict)
    checks: list[InvariantResult] = field(default_factory=list)


Trial = Callable[[Bench, random.Random], Awaitable[TrialOutcome]]


async def _settle_after_kill(bench: Bench) -> None:
    bench.gateway.kill()
    await asyncio.sleep(GATE_SETTLE_S)


async def _printing_resumed(bench: Bench, units: int, name: str) -> InvariantResult:
    before = len(sent(bench.simulation.ledger()))
    resumed = await until(
        lambda: (
            len(sent(bench.simulation.ledger())) >= before + units or not bench.gateway.running()
        ),
        RESUME_TIMEOUT_S,
    )
    printed = len(sent(bench.simulation.ledger())) - before
    ok = resumed and printed >= units
    return InvariantResult(
        name,
        ok,
        {"printed_since": printed, "gateway_running": bench.gateway.running()}
        | ({} if ok else {"log_tail": bench.gateway.tail(1500)}),
    )


async def kill(bench: Bench, rng: random.Random) -> TrialOutcome:
    """SIGKILL at a random moment of production."""
    bench.gateway.start()
    await bench.gateway.until_printing(bench.simulation)
    after = rng.uniform(0.0, 2.5)
    await asyncio.sleep(after)
    await _settle_after_kill(bench)
    return TrialOutcome({"killed_after_printing_s": round(after, 3)})


async def device(bench: Bench, rng: random.Random, kind: str | None = None) -> TrialOutcome:
    """A device drops its connection or sends garbage; the gateway must recover by itself."""
    kind = kind or rng.choice(DEVICE_FAULTS)
    bench.gateway.start()
    await bench.gateway.until_printing(bench.simulation)
    await asyncio.sleep(rng.uniform(0.2, 1.5))
    printer = bench.simulation.printers[PRINTER]
    camera = bench.simulation.cameras[CAMERA]
    assert isinstance(printer, PrinterSimulator)
    assert isinstance(camera, CameraServer)
    if kind == "printer_disconnect":
        await bench.simulation.disconnect_printer(PRINTER)
    elif kind == "camera_disconnect":
        camera.disconnect()
    elif kind == "plc_disconnect":
        assert bench.simulation.plc is not None
        await bench.simulation.plc.drop_subscriptions()
    elif kind == "printer_garbage":
        printer.injector.faults = Faults(garbage_rate=0.3)
    elif kind == "camera_garbage":
        camera.faults = Faults(garbage_rate=0.3)
    else:
        raise ValueError(f"unknown device fault {kind!r}; one of {', '.join(DEVICE_FAULTS)}")
    await asyncio.sleep(2.0)
    printer.injector.faults = Faults()
    camera.faults = Faults()
    resumed = await _printing_resumed(bench, 20, "production_resumed_after_fault")
    await _settle_after_kill(bench)
    return TrialOutcome({"device_fault": kind, "fault_s": 2.0}, [resumed])


async def outage(bench: Bench, rng: random.Random, which: str | None = None) -> TrialOutcome:
    """The MQTT broker, the EPCIS endpoint or both down for a while, then back: production
    goes on, the outbox holds the messages and drains when the receivers return."""
    assert bench.broker is not None
    assert bench.http is not None
    which = which or rng.choice(("mqtt", "http", "both"))
    down_s = rng.uniform(4.0, 8.0)
    bench.gateway.start()
    await bench.gateway.until_printing(bench.simulation)
    if which in ("mqtt", "both"):
        await asyncio.to_thread(bench.broker.stop)
    if which in ("http", "both"):
        await bench.http.stop()
    await asyncio.sleep(down_s)
    queued = bench.outbox_waiting()
    if which in ("mqtt", "both"):
        await asyncio.to_thread(bench.broker.start)
    if which in ("http", "both"):
        await bench.http.start()
    running = await _printing_resumed(bench, 10, "production_went_on")
    drained = await until(lambda: bench.outbox_waiting() == 0, DRAIN_TIMEOUT_S, 0.5)
    drain = InvariantResult(
        "outbox_drained_after_outage",
        drained,
        {"waiting_during_outage": queued, "waiting_now": bench.outbox_waiting()},
    )
    await _settle_after_kill(bench)
    return TrialOutcome({"down": which, "down_s": round(down_s, 1)}, [running, drain])


async def clock_jumps(bench: Bench, rng: random.Random) -> TrialOutcome:
    """The gateway's wall clock jumps forward, then back behind the real time, while it runs."""
    offset_file = bench.folder / "clock-offset"
    forward = rng.randint(1800, 7200)
    back = -rng.randint(600, 3600)
    bench.gateway.env = shifted_clock(offset_file)
    try:
        bench.gateway.start()
        await bench.gateway.until_printing(bench.simulation)
        jump_clock(offset_file, forward)
        after_forward = await _printing_resumed(bench, 20, "production_after_jump_forward")
        jump_clock(offset_file, back)
        after_back = await _printing_resumed(bench, 20, "production_after_jump_back")
        await _settle_after_kill(bench)
    finally:
        bench.gateway.env = {}
    return TrialOutcome(
        {"jump_forward_s": forward, "then_to_offset_s": back, "via": "libfaketime"},
        [after_forward, after_back],
    )


async def fsync_slow(bench: Bench, rng: random.Random) -> TrialOutcome:
    """Every fsync of the gateway takes 30-120 ms longer: verdicts come late and the fail-safe
    gate rejects, but nothing accepted is lost."""
    delay_ms = rng.randint(30, 120)
    bench.gateway.env = slow_fsync(bench.folder / "shim", delay_ms)
    try:
        bench.gateway.start()
        await bench.gateway.until_printing(bench.simulation)
        running = await _printing_resumed(bench, 30, "production_with_slow_fsync")
        await _settle_after_kill(bench)
    finally:
        bench.gateway.env = {}
    return TrialOutcome({"fsync_delay_ms": delay_ms, "via": "LD_PRELOAD shim"}, [running])


@dataclass
class SmallDisk:
    """A tmpfs of `size_mb` mounted at `mount_point` (root only), unmounted on exit."""

    mount_point: Path
    size_mb: int

    def __enter__(self) -> SmallDisk:
        self.mount_point.mkdir(parents=True, exist_ok=True)
        options = f"size={self.size_mb}m"
        subprocess.run(  # noqa: S603 - fixed arguments
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(self.mount_point)],  # noqa: S607
            check=True,
            capture_output=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(  # noqa: S603 - fixed arguments
            ["umount", "-l", str(self.mount_point)],  # noqa: S607 - util-linux on PATH
            check=False,
            capture_output=True,
        )

    def fill(self) -> Path:
        """Write a file until the disk is full; returns it (delete it to free the space)."""
        filler = self.mount_point / "filler"
        chunk = b"\0" * 65536
        with contextlib.suppress(OSError), filler.open("wb") as out:
            while True:
                out.write(chunk)
                out.flush()
        with contextlib.suppress(OSError), filler.open("ab") as out:
            while True:
                out.write(b"\0")
                out.flush()
        return filler

    def free(self) -> int:
        return shutil.disk_usage(self.mount_point).free


async def disk_full(bench: Bench, rng: random.Random, disk: SmallDisk) -> TrialOutcome:
    """The data disk fills up under a running gateway: it must stop with a clear error and
    lose nothing recorded; with space back it resumes."""
    bench.gateway.start()
    await bench.gateway.until_printing(bench.simulation, 10)
    await asyncio.sleep(rng.uniform(0.0, 1.5))
    log_before = len(bench.gateway.tail(10**9))
    filler = await asyncio.to_thread(disk.fill)
    exit_code = await bench.gateway.wait(60.0)
    stopped = exit_code is not None
    if not stopped:
        bench.gateway.kill()
    said = bench.gateway.tail(10**9)[log_before:]
    clear = "error:" in said and "Traceback" not in said
    stop_check = InvariantResult(
        "disk_full_stops_cleanly",
        stopped and exit_code not in (0, None) and clear,
        {"exit_code": exit_code, "stopped_within_60_s": stopped, "said": said[-1500:]},
    )
    await asyncio.sleep(GATE_SETTLE_S)
    filler.unlink()
    bench.gateway.start()
    resumed = InvariantResult("resumes_when_space_returns", True, {})
    try:
        await bench.gateway.until_printing(bench.simulation, 10)
    except RuntimeError as error:
        resumed = InvariantResult("resumes_when_space_returns", False, {"error": str(error)})
    await _settle_after_kill(bench)
    return TrialOutcome({"disk_mb": disk.size_mb, "filled_at_free_bytes": 0}, [stop_check, resumed])
