"""The demo site with a line that feeds the batch record, and the people a batch record needs:
the operator who runs the line, a second operator who verifies the clearance, a supervisor, QA
and an engineer who writes recipes (not a test module)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from ebr.execution import ExecutionRecord, execution_requirements
from ebr.signatures import ESignatures
from ebr.users import Role, Session, Users
from gateway.line.devices import open_line_devices
from gateway.line.ebr_clearance import ClearanceVerifier, clearance_verifier
from gateway.line.ebr_feed import EbrFeed, open_ebr_feed
from gateway.line.runtime import LineRuntime
from gateway.line.testbed import SimulatedSite, open_simulated_site
from gateway.simulation import LineSimulation, SimulationOptions
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD, demo_site
from tests.ebr.audit.audit_fixtures import FAST_HASHER

VERIFIER = "op.li"
SUPERVISOR = "sup.wang"
QA = "qa.chen"
ENGINEER = "eng.liu"
PASSWORD = "Batch-Record-2026"
PEOPLE = {
    VERIFIER: Role.OPERATOR,
    SUPERVISOR: Role.SUPERVISOR,
    QA: Role.QA,
    ENGINEER: Role.ENGINEER,
}

FEED_SECTION = """\
    ebr:
      sample_every_s: 2
      check_grace_minutes: 0.02
      parameters:
        - {name: line_speed, tag: "ns=1;s=Line.Conveyor.RateUpm", unit: upm, low: 300, high: 900}
        - {name: carton_weight, tag: "checkweigher-1:gross_weight_g", unit: g, low: 0, high: 500}
      checks:
        - {name: code_readability, interval_minutes: 60}
      yield_limits: {low_pct: 50}
"""


def feed_site_file(folder: Path, section: str = FEED_SECTION, **runtime: object) -> Path:
    """The demo site file with `section` as the line's `ebr` section."""
    site = demo_site(folder, **runtime)
    text = site.read_text(encoding="utf-8")
    site.write_text(text.replace("    devices:\n", section + "    devices:\n", 1), encoding="utf-8")
    return site


@dataclass
class RecordSite:
    site: SimulatedSite
    users: Users
    record: ExecutionRecord

    def session(self, username: str) -> Session:
        return self.users.login(username, PASSWORD)

    def verifier(self) -> ClearanceVerifier:
        return clearance_verifier(
            self.users, self.site.store.audit, self.session(VERIFIER), PASSWORD
        )


def open_record_site(site_file: Path) -> RecordSite:
    site = open_simulated_site(
        site_file, operator=OPERATOR, password=OPERATOR_PASSWORD, full_name="张工 Zhang"
    )
    users = Users(site.store.audit, hasher=FAST_HASHER)
    known = {account.username for account in users.accounts()}
    admin = users.login(f"{OPERATOR}.admin", OPERATOR_PASSWORD)
    for username, role in PEOPLE.items():
        if username in known:
            continue
        users.create(
            admin, username=username, full_name=username, role=role, password=PASSWORD + "-0"
        )
        users.change_password(username, PASSWORD + "-0", PASSWORD)
    signatures = ESignatures(users, site.store.audit, execution_requirements())
    return RecordSite(
        site, users, ExecutionRecord(site.store.engine, site.store.audit, signatures, users)
    )


@contextlib.asynccontextmanager
async def fed_line(
    site: SimulatedSite,
    batch_id: int,
    options: SimulationOptions,
    *,
    verifier: ClearanceVerifier | None,
) -> AsyncIterator[tuple[LineSimulation, LineRuntime, EbrFeed]]:
    """The simulated line running `batch_id` with its feed (ticking every 0.2 s)."""
    line = site.line
    async with (
        LineSimulation(line, base_dir=site.config.base_dir, options=options) as simulation,
        open_line_devices(line, site.config.base_dir) as devices,
        LineRuntime(site.store, line, batch_id, devices) as runtime,
        open_ebr_feed(runtime, verifier=verifier, tick_s=0.2) as feed,
    ):
        yield simulation, runtime, feed


async def until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {timeout:g} s: {what}"
        await asyncio.sleep(0.05)
