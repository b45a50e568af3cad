"""The simulated line as a test bench: the demo site on free ports, an operator, batches, and the
simulators in their own process — what `tracegate demo`, `bench/line.py` and the whole-line
tests share."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from config import SiteConfig, load_site
from config.sections import LineConfig
from ebr.audit.actor import Actor
from ebr.audit.checkpoints import create_site_key
from ebr.catalog import create_batch
from ebr.users import PermissionDeniedError, Role, Users
from gateway.commands.keys import write_new_key
from gateway.line.clearance import ClearanceSigner, clearance_signer
from gateway.line.demo_devices import UnitDevices, secure_opcua, unit_devices_over
from gateway.line.ebr_clearance import ClearanceVerifier
from gateway.site_store import SiteStore, open_site_store
from simulators import ports

DEMO_PRODUCT = "amox-250-24"
DEMO_PORTS = (
    "4840",
    "48400",
    "49100",
    "49101",
    "49102",
    "42200",
    "42201",
    "42202",
    "45020",
    "49200",
)
READY_TIMEOUT_S = 180.0
"""Starting the simulator process imports OpenCV and asyncua: slow on a busy machine."""


def on_free_ports(demo_site: str) -> str:
    """The demo site file's text with each of its fixed ports moved to a free one."""
    for port, free in zip(DEMO_PORTS, ports.free_ports(len(DEMO_PORTS)), strict=True):
        demo_site = re.sub(rf"(?<=[: ]){port}\b", str(free), demo_site)
    return demo_site


def write_demo_site(
    folder: Path,
    *,
    free_ports: bool = True,
    secure: bool = False,
    unit_devices: UnitDevices = "tcp",
    **runtime: object,
) -> Path:
    """The shipped demo site file in `folder` with its keys (made when missing); every device
    on a free port unless `free_ports` is False; `runtime` overrides lines[0].runtime. With
    `secure`, every OPC UA device is Basic256Sha256/SignAndEncrypt with certificate trust
    (certificates made under `folder`/pki); `unit_devices` puts the unit printer and camera
    on OPC UA, or the printer on Modbus registers (`gateway.line.demo_devices`)."""
    example = resources.files("config").joinpath("examples/demo.yaml")
    text = example.read_text(encoding="utf-8")
    if free_ports:
        text = on_free_ports(text)
    for key, value in runtime.items():
        text, found = re.subn(rf"(?m)^(      {key}:) .*$", rf"\g<1> {value}", text)
        if not found:
            text = text.replace("    runtime:\n", f"    runtime:\n      {key}: {value}\n", 1)
    folder.mkdir(parents=True, exist_ok=True)
    text = unit_devices_over(text, unit_devices)
    if secure:
        text = secure_opcua(text, folder)
    site = folder / "site.yaml"
    site.write_text(text, encoding="utf-8")
    config = load_site(site)
    if config.serial_key_path is not None and not config.serial_key_path.exists():
        write_new_key(config.serial_key_path)
    if config.audit_key_path is not None and not config.audit_key_path.exists():
        create_site_key(config.audit_key_path)
    return site


@dataclass
class SimulatedSite:
    file: Path
    config: SiteConfig
    store: SiteStore
    operator: Actor
    batches: int = 0
    signer: ClearanceSigner | None = None
    """Signs the operator's line clearance."""
    verifier: ClearanceVerifier | None = None
    """A second person who verifies the line clearance in the batch record."""

    @property
    def line(self) -> LineConfig:
        return self.config.lines[0]

    def new_batch(self, prefix: str = "T") -> int:
        """A batch of the demo product on the line, its lot unique in this site."""
        self.batches += 1
        today = datetime.now(UTC).date()
        return create_batch(
            self.store.engine,
            product_id=DEMO_PRODUCT,
            line_id=self.line.id,
            lot=f"{prefix}{self.batches:02d}{datetime.now(UTC):%H%M%S}",
            expiry=self.config.expiry_for(DEMO_PRODUCT, today),
            production_date=today,
            audit=self.store.audit,
        )


def ensure_operator(
    users: Users,
    username: str,
    password: str,
    full_name: str,
    *,
    administrator: tuple[str, str] | None = None,
) -> None:
    """`username` as an operator account with `password`, made when missing by
    `administrator` (user name, password), by default the site's first account, the
    administrator `<username>.admin` (same password): administrators hold no GMP rights, so the
    line is run, and its clearance signed, by operators."""
    if any(account.username == username for account in users.accounts()):
        return
    if administrator is None:
        administrator = (f"{username}.admin", password)
        with contextlib.suppress(PermissionDeniedError):
            users.bootstrap_administrator(
                administrator[0], f"{full_name} (administrator)", password
            )
    initial = f"{password}-initial"
    users.create(
        users.login(*administrator),
        username=username,
        full_name=full_name,
        role=Role.OPERATOR,
        password=initial,
    )
    users.change_password(username, initial, password)


def open_simulated_site(
    site_file: Path, *, operator: str, password: str, full_name: str
) -> SimulatedSite:
    """The site's store with `operator` logged in (an operator account, made when missing)."""
    config = load_site(site_file)
    store = open_site_store(config)
    users = Users(store.audit)
    ensure_operator(users, operator, password, full_name)
    session = users.login(operator, password)
    return SimulatedSite(
        site_file,
        config,
        store,
        Actor(session.user_id, session.username),
        signer=clearance_signer(users, store.audit, session, password),
    )


class SimulatorError(RuntimeError):
    """The simulator process did not come up; the message ends with its log."""


@contextlib.asynccontextmanager
async def simulator_process(
    site_file: Path,
    *,
    rate_upm: float,
    log_file: Path,
    print_defects: float = 0.0,
    camera_faults: float = 0.0,
    image_defects: float = 0.0,
    gate_distance: int = 8,
    autostart: bool = False,
    seed: int | None = None,
) -> AsyncIterator[None]:
    """`tracegate simulate line` in its own process until it prints READY; stopped on exit."""
    command = [
        sys.executable,
        "-m",
        "gateway.cli",
        "simulate",
        "line",
        "--config",
        str(site_file),
        "--rate",
        f"{rate_upm:g}",
        "--print-defects",
        f"{print_defects:g}",
        "--camera-faults",
        f"{camera_faults:g}",
        "--image-defects",
        f"{image_defects:g}",
        "--gate-distance",
        str(gate_distance),
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    if not autostart:
        command.append("--no-autostart")
    with log_file.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=log
        )
        try:
            await _until_ready(process, log_file)
            yield
        finally:
            await _stop(process)


async def _until_ready(process: asyncio.subprocess.Process, log_file: Path) -> None:
    assert process.stdout is not None
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(READY_TIMEOUT_S):
            while line := await process.stdout.readline():
                if line.startswith(b"READY"):
                    return
    tail = log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise SimulatorError(
        f"the simulator process printed no READY within {READY_TIMEOUT_S:g} s "
        f"(exit code {process.returncode}); its log ends with:\n{tail}"
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()
