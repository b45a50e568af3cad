"""The operator HMI in a real browser (Debian's chromium driven by Playwright) over a whole
simulated line: log in, clearance with e-signature, challenge, start, live counts, a planted
camera fault acknowledged, hold, stop; line-event → browser latency measured; screenshots of
every screen in both languages; the "connection lost" banner when the gateway goes away."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebr.users import Users
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app, serving_hmi
from gateway.hmi.operated import operated_line
from gateway.observability.http_server import ListenAddress
from gateway.simulation import LineSimulation, SimulationOptions
from tests.e2e.hmi_gateway import ThreadedGateway, artifact_folder, running
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD

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
RATE_UPM = 600.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
    ),
]


class Gateway(ThreadedGateway):
    """The simulated line, the line runtime and the HMI on one event loop in a thread."""

    async def serve(self) -> None:
        users = Users(self.site.store.audit)
        console = LineConsole(users, target_upm=RATE_UPM)
        app = create_hmi_app(users, console, line_name=self.line.name, settings=HmiSettings())
        options = SimulationOptions(
            rate_upm=RATE_UPM,
            print_defects=0.0,
            camera_faults=0.0,
            image_defects=0.0,
            gate_distance=8,
            autostart=False,
            frame_size=(320, 240),
            seed=11,
        )
        async with (
            LineSimulation(self.line, base_dir=self.site.config.base_dir, options=options) as sim,
            operated_line(self.site.store, self.line, self.site.batch_id, console),
            serving_hmi(app, ListenAddress("127.0.0.1", 0)) as url,
        ):
            await self.served_line(sim, url)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    return artifact_folder(tmp_path, "line")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from running(Gateway(tmp_path))


def number(text: str) -> int:
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits else 0


def test_operator_runs_the_line_from_the_browser(gateway: Gateway, artifacts: Path) -> None:
    expect = playwright_sync.expect
    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="zh-CN"
        ).new_page()
        page.set_default_timeout(WAIT_MS)
        base = gateway.url

        def shoot(name: str) -> None:
            """The current screen in both languages (the switch is on every page)."""
            current = page.get_attribute("html", "lang")
            for code, lang in (("zh_CN", "zh-CN"), ("en", "en")):
                if page.get_attribute("html", "lang") != lang:
                    page.click(f'form.languages button[value="{code}"]')
                    expect(page.locator("html")).to_have_attribute("lang", lang)
                page.screenshot(path=str(artifacts / f"{name}-{lang}.png"))
            if current != page.get_attribute("html", "lang"):
                page.click(f'form.languages button[value="{current.replace("-", "_")}"]')

        page.goto(base + "/")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("h1")).to_have_text("登录")
        shoot("login")
        page.fill("#username", OPERATOR)
        page.fill("#password", OPERATOR_PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(base + "/line")
        expect(page.locator('[data-live="phase_text"]')).to_have_text("已下达")

        page.goto(base + "/clearance")
        shoot("clearance")
        for box in page.locator("fieldset input[type=checkbox]").all():
            box.check()
        page.fill("#password", OPERATOR_PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(base + "/line?done=clearance")
        expect(page.locator('[data-live="phase_text"]')).to_have_text("视觉挑战测试")

        page.goto(base + "/challenge")
        page.click("form[action='/challenge'] button")
        expect(page.locator("#challenge-result")).to_contain_text("✔")
        shoot("challenge")

        page.goto(base + "/confirm/start")
        shoot("confirm-start")
        page.click("#confirm")
        page.wait_for_url(base + "/line?done=start")
        total = page.locator('[data-live="total"]')
        expect(total).not_to_have_text("0")
        first = number(total.inner_text())
        page.wait_for_function(
            "([first]) => Number(document.querySelector('[data-live=\"total\"]')"
            ".textContent.replace(/\\D/g, '')) >= first + 10",
            arg=[first],
        )
        shoot("line")

        gateway.camera_offline(True)
        banner = page.locator('[data-live="alarm-top"]')
        expect(banner).to_contain_text("DEVICE_FAULT", timeout=WAIT_MS)
        expect(banner).to_contain_text(gateway.camera)
        gateway.camera_offline(False)
        page.goto(base + "/alarms")
        fault = page.locator("#alarm-list tr").filter(has_text="DEVICE_FAULT")
        expect(fault.filter(has_text=gateway.camera)).to_contain_text(
            "已恢复，未确认", timeout=WAIT_MS
        )
        shoot("alarms")
        ack = page.locator(f'button[aria-label="确认 DEVICE_FAULT {gateway.camera}"]')
        ack.click()
        page.wait_for_url(base + "/alarms?done=ack")
        expect(
            page.locator(f'button[aria-label="确认 DEVICE_FAULT {gateway.camera}"]')
        ).to_have_count(0)

        page.goto(base + "/line")
        page.wait_for_function("window.hmiLatencies && window.hmiLatencies.length >= 10")
        latencies = page.evaluate("window.hmiLatencies")
        median = statistics.median(latencies)
        (artifacts / "latency.txt").write_text(
            f"line event -> browser: median {median:.1f} ms, max {max(latencies):.1f} ms, "
            f"{len(latencies)} samples\n",
            encoding="utf-8",
        )
        print(f"line event -> browser latency: median {median:.1f} ms over {len(latencies)}")
        assert median < 500, latencies

        page.goto(base + "/confirm/hold")
        page.click("#confirm")
        page.wait_for_url(base + "/line?done=hold")
        expect(page.locator('[data-live="phase_text"]')).to_have_text("暂停")
        held = number(page.locator('[data-live="total"]').inner_text())

        page.goto(base + "/confirm/stop")
        shoot("confirm-stop")
        page.click("#confirm")
        page.wait_for_url(base + "/line?done=stop")
        expect(page.locator('[data-live="phase_text"]')).to_have_text("已对账")
        assert number(page.locator('[data-live="total"]').inner_text()) >= held

        gateway.stop()
        expect(page.locator("#connection-lost")).to_be_visible()
        expect(page.locator("body")).to_have_class("stale")
        page.screenshot(path=str(artifacts / "connection-lost-zh-CN.png"))
        browser.close()
    shots = sorted(p.name for p in artifacts.glob("*.png"))
    assert len(shots) == 15, shots
