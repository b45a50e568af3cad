"""The engineer's screens in a real browser (Debian's chromium driven by Playwright) over the
demo line's simulators: every device checked up, a tag read from the PLC, the line rate and a
camera's power changed, the configuration checked, a rejected client certificate trusted.
Screenshots of each screen in both languages go to `hmi/engineer/` of the artifacts (a folder
of its own: the operator's e2e empties and counts `hmi/`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config import load_site
from drivers.opcua.app_certificate import application_certificate
from ebr.users import Role, Users
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app, serving_hmi
from gateway.hmi.engineer import install_engineer
from gateway.line.testbed import write_demo_site
from gateway.observability.http_server import ListenAddress
from gateway.opcua_server.settings import settings_from_config
from gateway.simulation import LineSimulation, SimulationOptions
from gateway.site_store import open_site_store
from tests.e2e.hmi_gateway import ThreadedServer, artifact_folder, running

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 60_000
ENGINEER = "eng.zhao"
PASSWORD = "Engineer-Passw0rd-26"
RATE_NODE = "ns=1;s=Line.Conveyor.RateUpm"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
    ),
]


class Gateway(ThreadedServer):
    """The simulated line and the HMI with the engineer's screens, on one loop in a thread."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.config = load_site(write_demo_site(folder))
        self.store = open_site_store(self.config)
        users = Users(self.store.audit)
        users.bootstrap_administrator("admin", "Administrator", PASSWORD)
        initial = f"{PASSWORD}-initial"
        users.create(
            users.login("admin", PASSWORD),
            username=ENGINEER,
            full_name="赵工 Zhao",
            role=Role.ENGINEER,
            password=initial,
        )
        users.change_password(ENGINEER, initial, PASSWORD)
        self.users = users
        self.simulation: LineSimulation | None = None

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self.store.close()

    async def serve(self) -> None:
        line = self.config.lines[0]
        app = create_hmi_app(
            self.users, LineConsole(self.users), line_name=line.name, settings=HmiSettings()
        )
        options = SimulationOptions(rate_upm=300, autostart=False, frame_size=(160, 120), seed=3)
        async with LineSimulation(line, base_dir=self.config.base_dir, options=options) as sim:
            install_engineer(
                app, site=self.config, trail=self.store.audit, simulation=sim, probe_timeout_s=60
            )
            async with serving_hmi(app, ListenAddress("127.0.0.1", 0)) as url:
                self.simulation = sim
                await self.served(url)


def plant_rejected_client(gateway: Gateway) -> str:
    settings = settings_from_config(gateway.config)
    assert settings.rejected_dir is not None
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = application_certificate(
        key,
        application_uri="urn:mes:client",
        common_name="MES client",
        not_before=datetime.now(UTC) - timedelta(minutes=1),
        valid_days=365,
    )
    settings.rejected_dir.mkdir(parents=True, exist_ok=True)
    (settings.rejected_dir / "mes.der").write_bytes(
        certificate.public_bytes(serialization.Encoding.DER)
    )
    return "mes.der"


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    return artifact_folder(tmp_path, "engineer")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from running(Gateway(tmp_path / "site"))


def test_an_engineer_checks_devices_reads_a_tag_and_drives_the_simulator(
    gateway: Gateway, artifacts: Path
) -> None:
    expect = playwright_sync.expect
    certificate_file = plant_rejected_client(gateway)
    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="zh-CN"
        ).new_page()
        page.set_default_timeout(WAIT_MS)
        base = gateway.url

        def shoot(name: str) -> None:
            """The current screen in both languages (the switch is on every page)."""
            for code, lang in (("zh_CN", "zh-CN"), ("en", "en")):
                if page.get_attribute("html", "lang") != lang:
                    page.click(f'form.languages button[value="{code}"]')
                    expect(page.locator("html")).to_have_attribute("lang", lang)
                page.screenshot(path=str(artifacts / f"{name}-{lang}.png"), full_page=True)
            page.click('form.languages button[value="zh_CN"]')
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

        page.goto(base + "/login")
        page.fill("#username", ENGINEER)
        page.fill("#password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(base + "/line")

        page.click('a.nav[href="/engineer/devices"]')
        expect(page.locator("h1")).to_have_text("设备及其健康状态")
        page.click('form[action="/engineer/devices/check"] button')
        page.wait_for_url(base + "/engineer/devices?done=check")
        expect(page.locator('#device-list tbody tr[data-state="up"]')).to_have_count(9)
        shoot("eng-devices")

        page.goto(base + "/engineer/tag")
        page.select_option("#device", "plc-1")
        page.fill("#address", RATE_NODE)
        page.click('form[action="/engineer/tag"] button[type=submit]')
        expect(page.locator("#tag-reading dd.value")).to_have_text("300.0")
        shoot("eng-tag")

        page.goto(base + "/engineer/simulator")
        page.fill("#rate_upm", "900")
        page.click('form[action="/engineer/simulator/rate"] button')
        page.wait_for_url(base + "/engineer/simulator?done=rate")
        expect(page.locator("#rate-now")).to_have_text("900")
        page.check('input[form="camera-camera-1"][name="offline"]')
        page.click('button[aria-label="应用 camera-1"]')
        page.wait_for_url(base + "/engineer/simulator?done=camera")
        expect(page.locator("#camera-faults")).to_contain_text("⚠ 已断电")
        shoot("eng-simulator")
        simulation = gateway.simulation
        assert simulation is not None
        assert simulation.plc is not None
        assert simulation.plc.line.rate_upm == 900.0
        assert simulation.cameras["camera-1"].offline

        page.click('nav.engineer a[href="/engineer/config"]')
        expect(page.locator("#config-summary")).to_contain_text("✔ 有效")
        shoot("eng-config")

        page.click('nav.engineer a[href="/engineer/certificates"]')
        row = page.locator(f'#certificates tr[data-file="{certificate_file}"]')
        expect(row).to_contain_text("CN=MES client")
        row.locator('input[name="reason"]').fill("MES 服务器 line 1")
        row.locator("button").click()
        page.wait_for_url(base + "/engineer/certificates?done=trust")
        expect(page.locator("#certificates")).to_contain_text("已信任")
        shoot("eng-certificates")
        browser.close()
    trusted = gateway.store.audit.entries(event="opcua_client_certificate_trusted")
    assert [entry.username for entry in trusted] == [ENGINEER]
