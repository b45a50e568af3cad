"""The engineer's screens against the demo line's real simulators: every device checked and
up, the live health of a device the gateway drives, a tag read from the OPC UA PLC simulator
and the Modbus checkweigher simulator (bad addresses explained), and simulator control changing
the running simulation."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from config import load_site
from ebr.users import Role
from gateway.devices import build_device, open_device
from gateway.line.testbed import write_demo_site
from gateway.observability.devices import DeviceBoard
from gateway.simulation import LineSimulation, SimulationOptions
from simulators.camera.server import CameraServer
from tests.ebr.audit.audit_users import Site
from tests.gateway.hmi.engineer_fixtures import EngineerHmi, engineer_app
from tests.gateway.hmi.hmi_fixtures import Clock, token_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
RATE_UPM = 300.0
WAIT_S = 60.0
RATE_NODE = "ns=1;s=Line.Conveyor.RateUpm"


@dataclass
class Simulated:
    hmi: EngineerHmi
    simulation: LineSimulation
    board: DeviceBoard
    token: str = ""


@pytest.fixture
async def simulated(engine: Engine, tmp_path: Path) -> AsyncIterator[Simulated]:
    site = Site(engine)
    site.add("eng.zhao", Role.ENGINEER)
    site_file = write_demo_site(tmp_path / "site")
    config = load_site(site_file)
    board = DeviceBoard()
    options = SimulationOptions(rate_upm=RATE_UPM, autostart=False, frame_size=(160, 120), seed=5)
    async with LineSimulation(config.lines[0], base_dir=config.base_dir, options=options) as sim:
        clock = Clock()
        app = engineer_app(site, config, clock, board=board, simulation=sim)
        transport = httpx.ASGITransport(app=app, client=("192.0.2.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://hmi") as client:
            hmi = EngineerHmi(site, clock, client, app, config, site_file)
            running = Simulated(hmi, sim, board)
            running.token = await hmi.log_in("eng.zhao")
            yield running


def row_of(page: str, device_id: str) -> str:
    found = re.search(
        rf"<tr[^>]*>\s*<td>[^<]*</td>\s*<td>{re.escape(device_id)}</td>.*?</tr>", page, re.S
    )
    assert found, page
    return found.group(0)


async def test_every_device_is_checked_up_and_a_driven_one_shows_live_health(
    simulated: Simulated,
) -> None:
    http = simulated.hmi.http
    checked = await http.post("/engineer/devices/check", data={"csrf_token": simulated.token})
    assert checked.status_code == 303, checked.text
    page = await http.get(checked.headers["location"])
    assert "Every device was checked." in page.text
    for device in simulated.hmi.config.lines[0].devices:
        row = row_of(page.text, device.id)
        assert 'data-state="up"' in row, row
        assert "from the last check" in row
    assert "127.0.0.1:" in page.text

    plc_config = simulated.hmi.config.lines[0].devices[0]
    assert plc_config.id == "plc-1"
    plc = build_device(plc_config, base_dir=simulated.hmi.config.base_dir)
    async with open_device(plc):
        with simulated.board.attached("line-1", [plc]):
            deadline = asyncio.get_running_loop().time() + WAIT_S
            while True:
                rows = await simulated.hmi.http.get("/engineer/devices/rows")
                row = row_of(rows.text, "plc-1")
                live_up = 'data-state="up"' in row and "live, from the running line" in row
                if live_up or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.05)
            assert 'data-state="up"' in row, row
            assert "live, from the running line" in row
            assert "from the last check" in row_of(rows.text, "printer-1")
    assert simulated.board.snapshot() == []


async def test_a_tag_is_read_from_the_opcua_plc_and_the_modbus_checkweigher(
    simulated: Simulated,
) -> None:
    http = simulated.hmi.http
    read = await http.post(
        "/engineer/tag",
        data={"csrf_token": simulated.token, "device": "plc-1", "address": RATE_NODE},
    )
    assert read.status_code == 200, read.text
    assert 'id="tag-reading"' in read.text
    assert '<dd class="value">300.0</dd>' in read.text
    assert "<dd>float</dd>" in read.text
    assert "<dd>good</dd>" in read.text
    alias = await http.post(
        "/engineer/tag", data={"csrf_token": simulated.token, "device": "plc-1", "address": "total"}
    )
    assert '<dd class="value">0</dd>' in alias.text, "a tag alias of the site file"

    unknown = await http.post(
        "/engineer/tag",
        data={"csrf_token": simulated.token, "device": "plc-1", "address": "ns=1;s=Line.Nope"},
    )
    assert unknown.status_code == 400
    assert "unknown tags ns=1;s=Line.Nope" in unknown.text
    assert "Where: plc-1: ns=1;s=Line.Nope" in unknown.text
    assert 'value="ns=1;s=Line.Nope"' in unknown.text, "the entered address is kept"
    garbage = await http.post(
        "/engineer/tag",
        data={"csrf_token": simulated.token, "device": "plc-1", "address": "not a node"},
    )
    assert garbage.status_code == 400
    assert "is not a NodeId" in garbage.text
    assert "ns=2;s=Line.Counters.Total" in garbage.text, "the fix shows the form"

    by_name = await http.post(
        "/engineer/tag",
        data={
            "csrf_token": simulated.token,
            "device": "checkweigher-1",
            "address": "units_weighed",
        },
    )
    assert by_name.status_code == 200, by_name.text
    assert "<dd>uint32</dd>" in by_name.text
    by_register = await http.post(
        "/engineer/tag",
        data={
            "csrf_token": simulated.token,
            "device": "checkweigher-1",
            "address": "2",
            "table": "input",
            "type": "uint32",
        },
    )
    assert by_register.status_code == 200, by_register.text
    value = re.search(r'<dd class="value">([^<]*)</dd>', by_name.text)
    assert value
    assert f'<dd class="value">{value.group(1)}</dd>' in by_register.text
    wrong = await http.post(
        "/engineer/tag",
        data={
            "csrf_token": simulated.token,
            "device": "checkweigher-1",
            "address": "0",
            "table": "coil",
            "type": "float32",
        },
    )
    assert wrong.status_code == 400
    assert "register 0 as float32 in coil" in wrong.text
    nothing = await http.post(
        "/engineer/tag", data={"csrf_token": simulated.token, "device": "printer-1", "address": "x"}
    )
    assert nothing.status_code == 400
    assert "no OPC UA or Modbus device &#39;printer-1&#39;" in nothing.text


async def test_simulator_control_changes_the_running_simulation(simulated: Simulated) -> None:
    http, token, simulation = simulated.hmi.http, simulated.token, simulated.simulation
    assert simulation.plc is not None
    changed = await http.post(
        "/engineer/simulator/rate", data={"csrf_token": token, "rate_upm": "900"}
    )
    assert changed.status_code == 303, changed.text
    assert simulation.plc.line.rate_upm == 900.0
    page = await http.get(changed.headers["location"])
    assert "The line rate was changed." in page.text
    assert '<span id="rate-now">900</span>' in page.text
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        read = await http.post(
            "/engineer/tag", data={"csrf_token": token, "device": "plc-1", "address": RATE_NODE}
        )
        if "900.0" in read.text or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    assert '<dd class="value">900.0</dd>' in read.text, "the PLC's own rate node shows it"

    refused = await http.post(
        "/engineer/simulator/rate", data={"csrf_token": token, "rate_upm": "fast"}
    )
    assert refused.status_code == 400
    assert "&#39;fast&#39; is not a number" in refused.text
    assert 'value="fast"' in refused.text, "what was entered is kept"
    too_fast = await http.post(
        "/engineer/simulator/rate", data={"csrf_token": token, "rate_upm": "0"}
    )
    assert too_fast.status_code == 400
    assert simulation.plc.line.rate_upm == 900.0

    defects = await http.post(
        "/engineer/simulator/defects",
        data={"csrf_token": token, "print_defects": "0.3", "camera_faults": "0,05"},
    )
    assert defects.status_code == 303, defects.text
    printer = simulation.printers["printer-1"]
    assert printer.print_faults.skip == pytest.approx(0.1)
    assert printer.print_faults.wrong_data == pytest.approx(0.1)
    assert simulation.options.camera_fault_rate == pytest.approx(0.05)

    camera = simulation.cameras["camera-1"]
    assert isinstance(camera, CameraServer)
    off = await http.post(
        "/engineer/simulator/camera",
        data={
            "csrf_token": token,
            "camera": "camera-1",
            "offline": "1",
            "delay_s": "0.25",
            "garbage_rate": "0.5",
        },
    )
    assert off.status_code == 303, off.text
    assert camera.offline
    assert camera.faults.delay == 0.25
    assert camera.faults.garbage_rate == 0.5
    page = await http.get("/engineer/simulator")
    assert "⚠ Powered off" in page.text
    back = await http.post(
        "/engineer/simulator/camera",
        data={"csrf_token": token, "camera": "camera-1", "delay_s": "0", "garbage_rate": "0"},
    )
    assert back.status_code == 303
    assert not camera.offline
    assert camera.faults.delay == 0
    unknown = await http.post(
        "/engineer/simulator/camera",
        data={"csrf_token": token, "camera": "camera-9", "delay_s": "0", "garbage_rate": "0"},
    )
    assert unknown.status_code == 400
    assert "no simulated camera &#39;camera-9&#39;" in unknown.text


__all__ = ["token_of"]
