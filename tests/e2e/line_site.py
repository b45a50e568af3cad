"""The demo site on free ports with an operator, for the whole-line tests (not a test module)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import SiteConfig
from ebr.audit.actor import Actor
from gateway.line.testbed import DEMO_PRODUCT, open_simulated_site, write_demo_site
from gateway.simulation import SimulationOptions
from gateway.site_store import SiteStore

PRODUCT = DEMO_PRODUCT
OPERATOR = "op.zhang"
OPERATOR_PASSWORD = "Line-clearance-2026"


@dataclass
class LineSite:
    config: SiteConfig
    store: SiteStore
    batch_id: int
    operator: Actor


LOADED_MACHINE_CONFIRM_MS = 6000
"""The bin sensor's confirmation window in these tests: on a loaded test machine the
simulated sensor's event can reach the gateway's loop later than the product's 1.5 s."""


def demo_site(folder: Path, **runtime: Any) -> Path:
    runtime.setdefault("reject_confirm_ms", LOADED_MACHINE_CONFIRM_MS)
    return write_demo_site(folder, **runtime)


def open_line_site(site_file: Path) -> LineSite:
    site = open_simulated_site(
        site_file, operator=OPERATOR, password=OPERATOR_PASSWORD, full_name="张工 Zhang"
    )
    return LineSite(site.config, site.store, site.new_batch("E2E"), site.operator)


def clean_line(seed: int) -> SimulationOptions:
    """600 units/min with no faults injected; small frames, fail-safe PLC started by the
    gateway."""
    return SimulationOptions(
        rate_upm=600.0, gate_distance=8, autostart=False, frame_size=(320, 240), seed=seed
    )


async def until(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll `condition()` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout:g} s"
        await asyncio.sleep(0.02)


def faulty_line(rate_upm: float, seed: int) -> SimulationOptions:
    """The issue's faults: 2 % print defects, 0.5 % camera faults; small frames, fail-safe PLC
    started by the gateway."""
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
