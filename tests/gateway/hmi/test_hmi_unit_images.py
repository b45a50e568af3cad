"""The last units' images on demand, over a short run of the simulated line: the line view
offers them behind a button, the page lists the last units (newest first) with code, verdict
and time, each image URL answers a decodable PNG of the camera's frame size, and an image not
kept (or asked for without a session) is refused with what to do."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import cv2
import httpx
import numpy as np

from ebr.users import Users
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app
from gateway.hmi.operated import operated_line
from gateway.simulation import LineSimulation, SimulationOptions
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD, demo_site, open_line_site
from tests.gateway.hmi.hmi_fixtures import token_of

FRAME = (320, 240)
IMAGE = re.compile(r'<img src="(/line/units/(\d+)\.png)" width="(\d+)" height="(\d+)"')


async def _post(
    http: httpx.AsyncClient, path: str, page: str, status: int = 303, **fields: str
) -> httpx.Response:
    token = token_of(await http.get(page))
    response = await http.post(path, data={"csrf_token": token, **fields})
    assert response.status_code == status, response.text
    return response


async def _until(condition: object, what: str, timeout_s: float = 90.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.1)
    assert condition(), what  # type: ignore[operator]


async def test_the_last_units_images_after_a_short_run(tmp_path: Path) -> None:
    site = open_line_site(demo_site(tmp_path))
    line = site.config.lines[0]
    users = Users(site.store.audit)
    console = LineConsole(users)
    app = create_hmi_app(users, console, line_name=line.name, settings=HmiSettings())
    options = SimulationOptions(
        rate_upm=600.0,
        print_defects=0.0,
        camera_faults=0.0,
        image_defects=0.0,
        gate_distance=8,
        autostart=False,
        frame_size=FRAME,
        seed=5,
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=options),
            operated_line(site.store, line, site.batch_id, console),
            httpx.AsyncClient(transport=transport, base_url="http://hmi") as http,
            httpx.AsyncClient(transport=transport, base_url="http://hmi") as stranger,
        ):
            await _until(lambda: console.runtime is not None, "the runtime attached")
            empty = await http.get("/line/units")
            assert empty.status_code == 303, "no session, no images"
            login = token_of(await http.get("/login"))
            await http.post(
                "/login",
                data={"csrf_token": login, "username": OPERATOR, "password": OPERATOR_PASSWORD},
            )
            assert "No unit images yet" in (await http.get("/line/units")).text
            runtime = console.running()
            items = {f"item-{i}": "on" for i in range(len(runtime.supervisor.checklist))}
            await _post(http, "/clearance", "/clearance", password=OPERATOR_PASSWORD, **items)
            challenged = await _post(http, "/challenge", "/challenge", status=200)
            assert "✖" not in challenged.text
            await _post(http, "/line/start", "/confirm/start")
            await _until(
                lambda: runtime.pipeline.counts.accepted >= console.recent.keep + 3,
                "units accepted",
            )
            await _post(http, "/line/hold", "/confirm/hold")
            line_view = await http.get("/line", headers={"Accept-Language": "en"})
            assert '<a class="button" id="last-units" href="/line/units">' in line_view.text

            page = await http.get("/line/units", headers={"Accept-Language": "en"})
            assert page.status_code == 200
            shown = IMAGE.findall(page.text)
            assert len(shown) == console.recent.keep == 12
            refs = [int(ref) for _, ref, _, _ in shown]
            assert refs == sorted(refs, reverse=True), "newest first"
            assert refs[0] >= refs[-1] + 11
            assert {(w, h) for _, _, w, h in shown} == {("320", "240")}
            assert page.text.count("✔ Accepted") >= 6
            first = runtime.pipeline.units[refs[-1]]
            assert first.code is not None
            assert first.code.hri in page.text

            url = shown[0][0]
            image = await http.get(url)
            assert image.status_code == 200
            assert image.headers["content-type"] == "image/png"
            decoded = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_UNCHANGED)
            assert decoded is not None
            assert (decoded.shape[1], decoded.shape[0]) == FRAME

            gone = await http.get(f"/line/units/{refs[-1] - 50}.png")
            assert gone.status_code == 404
            assert "only the last 12 units" in gone.text
            assert (await stranger.get(url)).status_code == 303
            await _post(http, "/language", "/line/units", language="zh_CN", next="/line/units")
            chinese = await http.get("/line/units")
            assert "<h1>最近单品图像</h1>" in chinese.text
            assert "✔ 合格" in chinese.text
    finally:
        site.store.close()
