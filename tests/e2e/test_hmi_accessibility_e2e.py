"""Accessibility proof in a real browser (Debian's chromium through Playwright): an operator,
QA and an engineer in turn visit every main screen of the site's HMI over a running simulated
line, and the DOM shows that every button, input, select, textarea and link has an accessible
name (its text, aria-label, aria-labelledby or an associated <label>), every image an alt text,
and every element styled as an abnormal state (alarm, fault, rejection, error, stale) carries
text or a symbol as well as its colour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ebr.orders import OrderBook
from ebr.users import Role, Users
from gateway.commands.demo_hmi import ensure_account
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app, serving_hmi
from gateway.hmi.engineer import install_engineer
from gateway.hmi.operated import operated_line
from gateway.hmi.operator_install import install_operator
from gateway.hmi.order_pick import OrderPicker
from gateway.hmi.qa.install import install_qa
from gateway.observability.http_server import ListenAddress
from gateway.simulation import LineSimulation, SimulationOptions
from tests.e2e.hmi_gateway import ThreadedGateway, artifact_folder, running
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD
from tests.e2e.test_hmi_e2e import CHROMIUM, CHROMIUM_ARGS, WAIT_MS

playwright_sync = pytest.importorskip("playwright.sync_api")
QA, ENGINEER = "qa.a11y", "eng.a11y"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]

UNNAMED = """() => {
  const text = (el) => (el.innerText || el.textContent || "").trim();
  const named = (el) => {
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    const labelled = (id) => document.getElementById(id) && text(document.getElementById(id));
    if (ids.some(labelled)) return true;
    if (el.labels && Array.from(el.labels).some((label) => text(label))) return true;
    const pressed = ["submit", "button", "reset"].includes(el.type);
    if (el.tagName === "INPUT" && pressed) return !!el.value.trim();
    if (el.tagName === "A" || el.tagName === "BUTTON") {
      if (text(el)) return true;
      return Array.from(el.querySelectorAll("img")).some((img) => (img.alt || "").trim());
    }
    return false;
  };
  const bad = [];
  for (const el of document.querySelectorAll(
      "button, input:not([type=hidden]), select, textarea, a[href]")) {
    if (!named(el)) bad.push(el.outerHTML.slice(0, 160));
  }
  for (const img of document.querySelectorAll("img")) {
    if (!(img.getAttribute("alt") || "").trim()) bad.push(img.outerHTML.slice(0, 160));
  }
  return bad;
}"""

ABNORMAL = (
    ".error, .banner.alarm:not(.quiet), .banner.lost:not([hidden]), tr.unacknowledged, "
    "tr.abnormal, .unit.abnormal, .abnormal, body.stale [data-live]"
)
COLOUR_ONLY = """(selector) => {
  const bad = [];
  let seen = 0;
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest("[hidden]")) continue;
    seen += 1;
    if (!(el.innerText || el.textContent || "").trim()) bad.push(el.outerHTML.slice(0, 160));
  }
  return {seen, bad};
}"""


class Gateway(ThreadedGateway):
    """The simulated line, its runtime, and the site's whole HMI (operator, QA, engineer) on
    one event loop in a thread."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.console: LineConsole | None = None

    async def serve(self) -> None:
        store = self.site.store
        users = Users(store.audit)
        admin = (f"{OPERATOR}.admin", OPERATOR_PASSWORD)
        ensure_account(users, QA, OPERATOR_PASSWORD, "QA Wang", Role.QA, admin)
        ensure_account(users, ENGINEER, OPERATOR_PASSWORD, "Eng Liu", Role.ENGINEER, admin)
        self.console = LineConsole(users, target_upm=600.0)
        app = create_hmi_app(users, self.console, line_name=self.line.name, settings=HmiSettings())
        book = OrderBook(store.engine, audit=store.audit, users=users)
        install_operator(app, orders=OrderPicker(book, store.audit, self.line.id))
        install_qa(app, engine=store.engine, audit=store.audit, users=users)
        options = SimulationOptions(
            rate_upm=600.0,
            print_defects=0.05,
            camera_faults=0.0,
            image_defects=0.0,
            gate_distance=8,
            autostart=False,
            frame_size=(320, 240),
            seed=21,
        )
        async with (
            LineSimulation(self.line, base_dir=self.site.config.base_dir, options=options) as sim,
            operated_line(store, self.line, self.site.batch_id, self.console),
        ):
            install_engineer(app, site=store.config, trail=store.audit, simulation=sim)
            async with serving_hmi(app, ListenAddress("127.0.0.1", 0)) as url:
                await self.served_line(sim, url)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    return artifact_folder(tmp_path, "accessibility")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from running(Gateway(tmp_path))


def test_every_control_is_labelled_and_no_state_is_colour_only(
    gateway: Gateway, artifacts: Path
) -> None:
    expect = playwright_sync.expect
    expect.set_options(timeout=WAIT_MS)
    unnamed: dict[str, list[str]] = {}
    colour_only: dict[str, list[str]] = {}
    abnormal_seen: dict[str, int] = {}
    base = gateway.url
    batch = gateway.site.batch_id
    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def check(page: Any, name: str) -> None:
            page.wait_for_load_state()
            unnamed[name] = page.evaluate(UNNAMED)
            found = page.evaluate(COLOUR_ONLY, ABNORMAL)
            colour_only[name] = found["bad"]
            abnormal_seen[name] = found["seen"]
            page.screenshot(path=str(artifacts / f"{name}.png"))

        def session(username: str, language: str) -> Any:
            page = browser.new_context(
                viewport={"width": 1280, "height": 800}, locale=language
            ).new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(base + "/login")
            if username == OPERATOR:
                check(page, f"login-{language}")
            page.fill("#username", username)
            page.fill("#password", OPERATOR_PASSWORD)
            page.click("#password-login button[type=submit]")
            page.wait_for_url(base + "/line")
            return page

        page = session(OPERATOR, "zh-CN")
        page.goto(base + "/clearance")
        check(page, "clearance")
        for box in page.locator("fieldset input[type=checkbox]").all():
            box.check()
        page.fill("#password", OPERATOR_PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(base + "/line?done=clearance")
        page.goto(base + "/challenge")
        page.click("form[action='/challenge'] button")
        expect(page.locator("#challenge-result")).to_contain_text("✔")
        check(page, "challenge")
        page.goto(base + "/confirm/start")
        check(page, "confirm")
        page.click("#confirm")
        page.wait_for_url(base + "/line?done=start")
        page.wait_for_function(
            "Number(document.querySelector('[data-live=\"rejected\"]').textContent"
            ".replace(/\\D/g, '')) >= 1 && Number(document.querySelector("
            "'[data-live=\"good\"]').textContent.replace(/\\D/g, '')) >= 12"
        )
        gateway.camera_offline(True)
        expect(page.locator('[data-live="alarm-top"]')).to_contain_text("DEVICE_FAULT")
        gateway.camera_offline(False)
        check(page, "line")
        page.goto(base + "/line/units")
        expect(page.locator("#unit-list img").first).to_be_visible()
        check(page, "units")
        page.goto(base + "/alarms")
        expect(page.locator("tr.unacknowledged").first).to_be_visible()
        check(page, "alarms")
        page.click(f'a[aria-label="搁置 DEVICE_FAULT {gateway.camera}"]')
        page.wait_for_url("**/alarms/shelve/**")
        check(page, "shelve")
        page.goto(base + "/orders")
        check(page, "orders")
        page.goto(base + "/station/identify")
        check(page, "station")
        page.goto(base + "/confirm/hold")
        page.click("#confirm")
        page.wait_for_url(base + "/line?done=hold")

        page = session(QA, "en")
        for name, path in (
            ("qa-batches", "/qa"),
            ("qa-batch", f"/qa/batches/{batch}"),
            ("qa-record", f"/qa/batches/{batch}?full=1"),
            ("qa-audit", "/qa/audit"),
            ("qa-bundle", "/qa/bundle"),
        ):
            page.goto(base + path)
            check(page, name)

        page = session(ENGINEER, "zh-CN")
        for name, path in (
            ("eng-devices", "/engineer/devices"),
            ("eng-tag", "/engineer/tag"),
            ("eng-simulator", "/engineer/simulator"),
            ("eng-config", "/engineer/config"),
            ("eng-certificates", "/engineer/certificates"),
        ):
            response = page.goto(base + path)
            assert response is not None, path
            assert response.status == 200, path
            check(page, name)
        browser.close()
    assert {name: bad for name, bad in unnamed.items() if bad} == {}
    assert {name: bad for name, bad in colour_only.items() if bad} == {}
    assert abnormal_seen["alarms"] >= 1, "the alarm list showed the planted fault"
    assert abnormal_seen["units"] >= 1 or abnormal_seen["line"] >= 1, abnormal_seen
    assert len(unnamed) == 20
