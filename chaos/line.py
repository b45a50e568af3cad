"""One line under test: the demo site in a folder (optionally with uplinks to the campaign's
receivers), a batch, the simulated devices, and the gateway as a `tracegate run` subprocess
that a trial may kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.line.testbed import SimulatedSite, open_simulated_site, write_demo_site
from gateway.simulation import LineSimulation, SimulationOptions, UnitRecord

OPERATOR = "op.chaos"
OPERATOR_PASSWORD = "Chaos-campaign-2026"  # noqa: S105 - the simulated site's operator
CONFIRM_MS = 6000
"""The bin sensor's confirmation window: on a loaded machine the simulated sensor's event can
reach the gateway later than the product's 1.5 s."""
START_TIMEOUT_S = 90.0
RATE_UPM = 600.0


@dataclass(frozen=True, slots=True)
class Uplinks:
    mqtt_port: int
    http_url: str


def uplinks_section(uplinks: Uplinks) -> str:
    return (
        "\nuplinks:\n"
        "  destinations:\n"
        "    - id: broker\n"
        "      type: mqtt\n"
        "      host: 127.0.0.1\n"
        f"      port: {uplinks.mqtt_port}\n"
        "    - id: capture\n"
        "      type: epcis-http\n"
        f"      url: {uplinks.http_url}\n"
        "  retry:\n"
        "    initial_s: 0.2\n"
        "    max_s: 2\n"
    )


def write_site(folder: Path, uplinks: Uplinks | None = None) -> Path:
    site_file = write_demo_site(folder, reject_confirm_ms=CONFIRM_MS)
    if uplinks is not None:
        with site_file.open("a", encoding="utf-8") as out:
            out.write(uplinks_section(uplinks))
    return site_file


def open_site(site_file: Path) -> SimulatedSite:
    return open_simulated_site(
        site_file, operator=OPERATOR, password=OPERATOR_PASSWORD, full_name="混沌 Chaos"
    )


def line_options(seed: int, rate_upm: float = RATE_UPM) -> SimulationOptions:
    """The issue's everyday faults (2 % print defects, 0.5 % camera faults), small frames, and
    a fail-safe PLC started by the gateway."""
    return SimulationOptions(
        rate_upm=rate_upm,
        print_defects=0.02,
        camera_faults=0.005,
        image_defects=0.0,
        gate_distance=8,
        autostart=False,
        frame_size=(320, 240),
        seed=seed,
    )


def sent(ledger: Mapping[str, UnitRecord]) -> list[str]:
    return [unit.sent_payload for unit in ledger.values() if unit.sent_payload is not None]


class GatewayStartError(RuntimeError):
    pass


@dataclass
class GatewayProcess:
    """`tracegate run` for one batch, its output appended to `log`."""

    site_file: Path
    batch_id: int
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    launcher: tuple[str, ...] = ("-m", "gateway.cli")
    """How the interpreter starts the `tracegate` command line."""
    process: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            *self.launcher,
            "run",
            "--config",
            str(self.site_file),
            "--batch",
            str(self.batch_id),
            "--operator",
            OPERATOR,
            "--yes",
            *extra,
        ]
        env = {**os.environ, "TRACEGATE_OPERATOR_PASSWORD": OPERATOR_PASSWORD, **self.env}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our CLI
                command, stdout=out, stderr=subprocess.STDOUT, env=env
            )
        return self.process

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    async def wait(self, timeout_s: float) -> int | None:
        """The exit code, or None if still running after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while self.process is not None and self.process.poll() is None:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.1)
        return None if self.process is None else self.process.returncode

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    async def until_printing(self, simulation: LineSimulation, units: int = 5) -> None:
        """Until the printer got `units` more codes; the log's end if the gateway died first."""
        before = len(sent(simulation.ledger()))
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(sent(simulation.ledger())) < before + units:
            if not self.running():
                raise GatewayStartError(f"the gateway exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise GatewayStartError(
                    f"the gateway printed nothing in {START_TIMEOUT_S:g} s:\n{self.tail()}"
                )
            await asyncio.sleep(0.05)
