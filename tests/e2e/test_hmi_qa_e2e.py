"""QA's review and release in a real browser (Debian's chromium driven by Playwright): QA logs
in, opens a reconciled batch with exceptions, is refused the release with every reason,
acknowledges each exception with a comment, signs the audit-trail review, releases, and
verifies an evidence bundle; screenshots of each QA screen in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ebr.users import Role
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app, serving_hmi
from gateway.hmi.qa import install_qa
from gateway.observability.http_server import ListenAddress
from tests.e2e.hmi_gateway import ThreadedServer, artifact_folder, running
from tests.e2e.test_hmi_e2e import CHROMIUM, CHROMIUM_ARGS
from tests.ebr.audit.audit_users import OWN
from tests.ebr.execution.execution_fixtures import ExecutionSite
from tests.gateway.hmi.test_hmi_qa import reconciled_with_exceptions

playwright_sync = pytest.importorskip("playwright.sync_api")
WAIT_MS = 60_000
QA = "qa.chen"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
    ),
]


class QaServer(ThreadedServer):
    """The HMI with QA's screens over the site's store, served on an event loop in a thread."""

    START_TIMEOUT_S = 60.0

    def __init__(self, site: ExecutionSite) -> None:
        super().__init__()
        self.site = site

    async def serve(self) -> None:
        site = self.site
        app = create_hmi_app(
            site.users, LineConsole(site.users), line_name="Line 1", settings=HmiSettings()
        )
        install_qa(
            app, engine=site.engine, audit=site.trail, users=site.users, journal=site.journal
        )
        async with serving_hmi(app, ListenAddress("127.0.0.1", 0)) as url:
            await self.served(url)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    return artifact_folder(tmp_path, "qa")


@pytest.fixture
def server(engine: Engine) -> Iterator[QaServer]:
    site = ExecutionSite(engine)
    site.add(QA, Role.QA)
    reconciled_with_exceptions(site)
    yield from running(QaServer(site))


def test_qa_reviews_acknowledges_signs_and_releases(server: QaServer, artifacts: Path) -> None:
    expect = playwright_sync.expect
    pending = [item.id for item in server.site.record.exceptions(server.site.batch)]
    batch = f"{server.url}/qa/batches/{server.site.batch}"
    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="zh-CN"
        ).new_page()
        page.set_default_timeout(WAIT_MS)

        def switch(lang: str) -> None:
            if page.get_attribute("html", "lang") != lang:
                page.click(f'form.languages button[value="{lang.replace("-", "_")}"]')
                expect(page.locator("html")).to_have_attribute("lang", lang)

        def shoot(name: str) -> None:
            """The current page in both languages, ending in Chinese."""
            for lang in ("en", "zh-CN"):
                switch(lang)
                page.screenshot(path=str(artifacts / f"{name}-{lang}.png"), full_page=True)

        page.goto(server.url + "/login")
        page.fill("#username", QA)
        page.fill("#password", OWN)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(server.url + "/line")

        page.goto(server.url + "/qa?status=reconciled")
        expect(page.locator("#qa-batches tbody tr")).to_have_count(1)
        shoot("qa-batches")
        page.click(f'a[href="/qa/batches/{server.site.batch}"]')
        page.wait_for_url(batch)
        expect(page.locator("#qa-exceptions tbody tr.abnormal")).to_have_count(len(pending))
        expect(page.locator("#qa-exceptions")).to_contain_text("超限")
        shoot("qa-batch-exceptions")

        page.click("#sign-release")
        page.wait_for_url(batch + "/sign/release")
        expect(page.locator("#signer")).to_have_text("Qa.Chen")
        page.fill("#password", OWN)
        page.click("#sign")
        blockers = page.locator("#release-blockers li")
        expect(blockers).to_have_count(len(pending) + 1)
        expect(blockers.last).to_have_text("the audit-trail review is not signed")
        page.screenshot(path=str(artifacts / "qa-release-refused-zh-CN.png"), full_page=True)
        switch("en")
        page.fill("#password", OWN)
        page.click("#sign")
        expect(page.locator("#release-blockers li")).to_have_count(len(pending) + 1)
        page.screenshot(path=str(artifacts / "qa-release-refused-en.png"), full_page=True)
        switch("zh-CN")

        page.goto(batch)
        for exception_id in pending:
            page.fill(f"#comment-{exception_id}", f"已与生产核对 {exception_id}")
            page.click(f'#exception-{exception_id} button[type="submit"]')
            page.wait_for_url(batch + "?done=ack")
        expect(page.locator("#qa-exceptions tbody tr.abnormal")).to_have_count(0)
        expect(page.locator("#blockers li")).to_have_count(1)

        page.click("#sign-review")
        page.wait_for_url(batch + "/sign/review")
        shoot("qa-sign-review")
        page.fill("#password", OWN)
        page.click("#sign")
        page.wait_for_url(batch + "?done=review")
        expect(page.locator("#blockers-none")).to_be_visible()

        page.click("#sign-release")
        page.wait_for_url(batch + "/sign/release")
        shoot("qa-sign-release")
        page.fill("#password", OWN)
        page.click("#sign")
        page.wait_for_url(batch + "?done=release")
        expect(page.locator("#batch-status")).to_have_text("已放行")
        assert server.site.status() == "released"

        page.goto(batch + "?full=1")
        expect(page.locator("#full-record")).to_contain_text("batch_release")
        page.screenshot(path=str(artifacts / "qa-full-record-zh-CN.png"), full_page=True)

        page.goto(server.url + "/qa/audit?event=ebr.exception_acknowledged")
        expect(page.locator("#qa-audit tbody tr")).to_have_count(len(pending))
        page.screenshot(path=str(artifacts / "qa-audit-zh-CN.png"), full_page=True)
        switch("en")
        page.screenshot(path=str(artifacts / "qa-audit-en.png"), full_page=True)

        bundle = page.request.get(server.url + "/qa/audit/bundle.json").body()
        page.goto(server.url + "/qa/bundle")
        page.set_input_files(
            "#bundle", {"name": "bundle.json", "mimeType": "application/json", "buffer": bundle}
        )
        page.click("#verify")
        expect(page.locator("#bundle-result")).to_contain_text("✔")
        page.screenshot(path=str(artifacts / "qa-bundle-en.png"), full_page=True)
        switch("zh-CN")
        page.screenshot(path=str(artifacts / "qa-bundle-form-zh-CN.png"), full_page=True)
        browser.close()
    shots = sorted(p.name for p in artifacts.glob("*.png"))
    assert len(shots) == 15, shots
