"""Acceptance: a running gateway (simulated line, a batch in production) is scraped over real
HTTP; `/readyz` turns 503 when a device goes down and when the database becomes read-only, and
back to 200 when they recover. (The OPC UA server's part of readiness is tested with
`tracegate opcua serve` in test_http_server.py: starting one costs seconds.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, event, select

from ebr.models import Code
from gateway.line.session import run_batch
from gateway.observability.http_server import ListenAddress, serving_observability
from gateway.observability.hub import Observability
from gateway.simulation import LineSimulation, SimulationOptions
from tests.e2e.line_site import demo_site, open_line_site

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


def read_only(engine: Engine) -> Callable[[], None]:
    """Every new connection finds the database read-only (as after the file system is
    remounted read-only); returns what undoes it."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    event.listen(engine, "connect", on_connect)
    engine.dispose()

    def undo() -> None:
        event.remove(engine, "connect", on_connect)
        engine.dispose()

    return undo


async def test_the_running_gateway_is_scraped_and_turns_unready(tmp_path: Path) -> None:
    site = open_line_site(demo_site(tmp_path))
    line = site.config.lines[0]
    camera = next(d.id for d in line.devices if d.role == "unit-camera")
    options = SimulationOptions(
        rate_upm=600.0, gate_distance=8, autostart=False, frame_size=(320, 240), seed=11
    )
    stop = asyncio.Event()
    try:
        async with LineSimulation(
            line, base_dir=site.config.base_dir, options=options
        ) as simulation:
            watched = Observability.for_site(site.store)
            async with (
                serving_observability(watched, ListenAddress("127.0.0.1", 0)) as bound,
                httpx.AsyncClient(base_url=f"http://{bound}", timeout=10) as http,
            ):
                running = asyncio.create_task(
                    run_batch(
                        site.store,
                        line,
                        site.batch_id,
                        site.operator,
                        units=None,
                        stop=stop,
                        observability=watched,
                    )
                )

                async def accepted_ten() -> Samples | None:
                    assert not running.done(), running
                    response = await http.get("/metrics")
                    assert response.status_code == 200
                    assert response.headers["content-type"].startswith("text/plain")
                    samples = scrape(response.text)
                    key = ("tracegate_units_total", (("line", line.id), ("outcome", "accepted")))
                    return samples if samples.get(key, 0) >= 10 else None

                samples = await eventually(accepted_ten)
                accepted = value(samples, "tracegate_units_total", line=line.id, outcome="accepted")
                assert value(
                    samples, "tracegate_verdict_latency_seconds_count", line=line.id
                ) == pytest.approx(accepted)
                assert value(samples, "tracegate_verdict_latency_seconds_sum", line=line.id) > 0
                for device in ("plc-1", camera):
                    assert value(samples, "tracegate_device_up", line=line.id, device=device) == 1
                    assert (
                        value(
                            samples,
                            "tracegate_device_state",
                            line=line.id,
                            device=device,
                            state="up",
                        )
                        == 1
                    )
                assert ("tracegate_event_loop_lag_seconds", ()) in samples
                assert any(name == "tracegate_build_info" for name, _ in samples)
                with site.store.engine.connect() as conn:
                    rows = conn.execute(select(Code.key, Code.serial, Code.data)).all()
                codes = {str(part) for row in rows for part in row if part}
                labels = {label for _, pairs in samples for label in pairs}
                assert not {name for name, _ in labels} & {"serial", "code", "batch", "lot"}
                assert not {str(v) for _, v in labels} & (codes | {str(site.batch_id)})

                ready = await http.get("/readyz")
                assert ready.status_code == 200, ready.text
                assert {c["name"]: c["ok"] for c in ready.json()["checks"]} == {
                    "database": True,
                    "devices": True,
                }

                simulation.set_camera_offline(camera, True)

                async def unready() -> httpx.Response | None:
                    response = await http.get("/readyz")
                    return response if response.status_code == 503 else None

                down = await eventually(unready)
                problem = down.json()
                assert down.headers["content-type"].startswith("application/problem+json")
                assert problem["title"] == "Not ready"
                assert f"{line.id}/{camera}" in problem["where"]
                assert "devices" in problem["detail"]
                assert problem["fix"]
                stop.set()
                report = await running
                assert report["accepted"] >= 10

                detached = await http.get("/readyz")
                assert detached.status_code == 200, detached.text

                undo = read_only(site.store.engine)
                try:
                    refused = await http.get("/readyz")
                    assert refused.status_code == 503
                    assert "database" in refused.json()["detail"]
                    assert "readonly" in refused.json()["detail"].replace("-", "")
                finally:
                    undo()
                assert (await http.get("/readyz")).status_code == 200
                assert (await http.get("/healthz")).json()["status"] == "alive"
    finally:
        stop.set()
        site.store.close()
