"""`/metrics`, `/healthz` and `/readyz` as the gateway's web app serves them: no user needed,
Prometheus' text format, and a problem naming each failing check when not ready."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.api import create_app
from gateway.observability.hub import Observability
from gateway.observability.readiness import CheckResult
from tests.gateway.trace_site import TraceSite, trace_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[TraceSite]:
    made = trace_site(tmp_path)
    yield made
    made.store.close()


def failing(name: str, where: str) -> CheckResult:
    return CheckResult(name, False, f"{name} is broken", where, f"repair the {name}")


async def test_the_endpoints_need_no_user_and_say_what_they_are(site: TraceSite) -> None:
    watched = Observability.for_site(site.store)
    app = create_app(site.config, site.store, users=site.users, observability=watched)
    watched.line("line-1").accepted(0.02)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as http:
        metrics = await http.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain; version=")
        assert 'tracegate_units_total{line="line-1",outcome="accepted"} 1.0' in metrics.text

        alive = (await http.get("/healthz")).json()
        assert alive["status"] == "alive"
        assert alive["uptime_s"] >= 0

        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert [c["name"] for c in ready.json()["checks"]] == ["database", "devices"]

        watched.readiness.checks += [
            lambda: failing("printer", "line-1/printer-1"),
            lambda: failing("disk", "/var/lib/tracegate"),
        ]
        refused = await http.get("/readyz")
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["status"] == 503
        assert problem["title"] == "Not ready"
        assert problem["detail"] == "printer: printer is broken; disk: disk is broken"
        assert problem["where"] == "line-1/printer-1; /var/lib/tracegate"
        assert problem["fix"] == "repair the printer; repair the disk"
        assert [c["ok"] for c in problem["checks"]] == [True, True, False, False]

        paths = (await http.get("/api/openapi.json")).json()["paths"]
        assert {"/metrics", "/healthz", "/readyz"} <= set(paths)


async def test_the_app_serves_the_site_database_readiness_by_default(site: TraceSite) -> None:
    app = create_app(site.config, site.store, users=site.users)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"][0] == {
        "name": "database",
        "ok": True,
        "detail": "takes writes",
        "where": site.config.database_url,
    }
