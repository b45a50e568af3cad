"""The operator's order picking, alarm shelving and scanner station in a real browser (Debian's
chromium through Playwright) over a whole simulated line: pick the order (its batch opens on
the line), clear, challenge and start it, shelve a planted camera fault and unshelve it, scan a
unit's code into the station as a keyboard-wedge scanner would (the code, then Enter), and an
unknown code; screenshots of each screen in both languages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ebr.audit.actor import Actor
from ebr.orders import OrderBook, OrderRequest
from ebr.users import Users
from gateway.hmi import LineConsole, serving_hmi
from gateway.hmi.line_host import LineHost
from gateway.hmi.site_app import site_hmi_app
from gateway.observability.http_server import ListenAddress
from gateway.simulation import LineSimulation, SimulationOptions
from tests.e2e.hmi_gateway import ThreadedGateway, artifact_folder, running
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD, PRODUCT
from tests.e2e.test_hmi_e2e import CHROMIUM, CHROMIUM_ARGS, WAIT_MS

playwright_sync = pytest.importorskip("playwright.sync_api")
RATE_UPM = 600.0
ORDER = "PO-E2E-1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


class Gateway(ThreadedGateway):
    """The simulated line and the HMI with a `LineHost` on one event loop in a thread; the
    line's batch is opened only when the operator picks the order."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        today = datetime.now(UTC).date()
        self.order = OrderBook(self.site.store.engine, audit=self.site.store.audit).download(
            OrderRequest(
                ORDER,
                PRODUCT,
                self.line.id,
                "E2EORD",
                200,
                today,
                self.site.config.expiry_for(PRODUCT, today),
            ),
            Actor(username="mes"),
        )
        self.console: LineConsole | None = None

    def accepted_unit(self) -> str:
        """One accepted unit's key, read on the gateway's loop."""

        async def read() -> str:
            assert self.console is not None
            runtime = self.console.running()
            return sorted(runtime.pipeline.ledger.accepted)[0]

        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(read(), self._loop).result(60)

    async def serve(self) -> None:
        self.console = LineConsole(Users(self.site.store.audit), target_upm=RATE_UPM)
        options = SimulationOptions(
            rate_upm=RATE_UPM,
            print_defects=0.0,
            camera_faults=0.0,
            image_defects=0.0,
            gate_distance=8,
            autostart=False,
            frame_size=(320, 240),
            seed=12,
        )
        store = self.site.store
        async with (
            LineSimulation(self.line, base_dir=self.site.config.base_dir, options=options) as sim,
            LineHost(store, self.line, self.console) as host,
        ):
            app = site_hmi_app(store, self.line, self.console, open_batch=host.open_batch)
            async with serving_hmi(app, ListenAddress("127.0.0.1", 0)) as url:
                await self.served_line(sim, url)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    return artifact_folder(tmp_path, "station")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from running(Gateway(tmp_path))


def human_readable(key: str) -> str:
    """The unit's GS1 key `01{GTIN}21{serial}` as its human-readable text."""
    return f"(01){key[2:16]}(21){key[18:]}"


def test_pick_shelve_and_scan_at_the_station(gateway: Gateway, artifacts: Path) -> None:
    expect = playwright_sync.expect
    expect.set_options(timeout=WAIT_MS)
    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="zh-CN"
        ).new_page()
        page.set_default_timeout(WAIT_MS)
        base = gateway.url

        def shoot(name: str) -> None:
            current = page.get_attribute("html", "lang") or "zh-CN"
            for code, lang in (("zh_CN", "zh-CN"), ("en", "en")):
                if page.get_attribute("html", "lang") != lang:
                    page.click(f'form.languages button[value="{code}"]')
                    expect(page.locator("html")).to_have_attribute("lang", lang)
                page.screenshot(path=str(artifacts / f"{name}-{lang}.png"))
            if current != page.get_attribute("html", "lang"):
                page.click(f'form.languages button[value="{current.replace("-", "_")}"]')
                expect(page.locator("html")).to_have_attribute("lang", current)

        page.goto(base + "/login")
        page.fill("#username", OPERATOR)
        page.fill("#password", OPERATOR_PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(base + "/line")
        expect(page.locator('[data-live="phase_text"]')).to_have_text("产线上没有批次")

        page.goto(base + "/orders")
        expect(page.locator("#order-list")).to_contain_text(ORDER)
        expect(page.locator("#order-list")).to_contain_text("E2EORD")
        shoot("orders")
        page.click(f'button[aria-label="选择 {ORDER}"]')
        page.wait_for_url(base + "/line?done=pick")
        expect(page.locator('[data-live="phase_text"]')).to_have_text("已下达")
        assert str(gateway.order.batch_id) in page.locator('[data-live="batch"]').inner_text()

        page.goto(base + "/clearance")
        for box in page.locator("fieldset input[type=checkbox]").all():
            box.check()
        page.fill("#password", OPERATOR_PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".error").count() == 0, page.locator(".error").all_inner_texts()
        page.wait_for_url(base + "/line?done=clearance")
        page.goto(base + "/challenge")
        page.click("form[action='/challenge'] button")
        expect(page.locator("#challenge-result")).to_contain_text("✔")
        page.goto(base + "/confirm/start")
        page.click("#confirm")
        page.wait_for_url(base + "/line?done=start")
        page.wait_for_function(
            "Number(document.querySelector('[data-live=\"good\"]').textContent"
            ".replace(/\\D/g, '')) >= 3"
        )

        gateway.camera_offline(True)
        expect(page.locator('[data-live="alarm-top"]')).to_contain_text("DEVICE_FAULT")
        gateway.camera_offline(False)
        page.goto(base + "/alarms")
        page.click(f'a[aria-label="搁置 DEVICE_FAULT {gateway.camera}"]')
        page.wait_for_url("**/alarms/shelve/**")
        shoot("shelve")
        page.select_option("#minutes", "15")
        page.fill("#reason", "相机维护中 camera maintenance")
        page.click("#shelve")
        page.wait_for_url(base + "/alarms?done=shelve")
        shelved = page.locator("#shelved-list")
        expect(shelved).to_contain_text("DEVICE_FAULT")
        expect(shelved).to_contain_text("camera maintenance")
        expect(page.locator(f'a[aria-label="搁置 DEVICE_FAULT {gateway.camera}"]')).to_have_count(0)
        shoot("alarms-shelved")
        page.click(f'button[aria-label="取消搁置 DEVICE_FAULT {gateway.camera}"]')
        page.wait_for_url(base + "/alarms?done=unshelve")
        expect(page.locator("#shelved-list")).to_contain_text("无搁置")

        unit = gateway.accepted_unit()
        page.goto(base + "/station/identify")
        expect(page.locator("#f-code")).to_be_focused()
        page.keyboard.type(human_readable(unit), delay=5)
        page.keyboard.press("Enter")
        expect(page.locator("#station-result")).to_contain_text("✔")
        expect(page.locator("#station-result")).to_contain_text(unit)
        shoot("station")
        page.keyboard.type("(01)" + unit[2:16] + "(21)NOSUCH1", delay=5)
        page.keyboard.press("Enter")
        expect(page.locator("#station-result")).to_contain_text("✖")
        expect(page.locator("#station-result")).to_contain_text("never issued by this site")
        expect(page.locator("#f-code")).to_have_value("(01)" + unit[2:16] + "(21)NOSUCH1")
        shoot("station-refused")

        page.goto(base + "/station/destroy")
        page.select_option("#f-reason", "damaged")
        page.click("#f-unit")
        page.keyboard.type(human_readable(unit), delay=5)
        page.keyboard.press("Enter")
        expect(page.locator("#station-result")).to_contain_text("单品已销毁")

        page.goto(base + "/confirm/stop")
        page.click("#confirm")
        page.wait_for_url(base + "/line?done=stop")
        expect(page.locator('[data-live="phase_text"]')).to_have_text("已对账")
        browser.close()
    assert len(list(artifacts.glob("*.png"))) == 10
