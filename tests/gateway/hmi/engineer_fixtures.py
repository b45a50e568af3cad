"""The HMI with the engineer's screens over a real SQLite store and the demo site file (every
device on a free port), with users of every role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from config import SiteConfig, load_site
from ebr.users import Role
from gateway.api.login_limit import LoginLimiter, LoginLimits
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app
from gateway.hmi.engineer import install_engineer
from gateway.hmi.sessions import HmiSessions
from gateway.line.testbed import write_demo_site
from gateway.observability.devices import DeviceBoard
from gateway.simulation import LineSimulation
from tests.ebr.audit.audit_users import Site
from tests.gateway.hmi.hmi_fixtures import IDLE_S, Clock, Hmi

PROBE_TIMEOUT_S = 60.0
"""Generous: a check returns as soon as every device is up, even on a loaded machine."""
ACTIONS = [
    "/engineer/devices/check",
    "/engineer/tag",
    "/engineer/simulator/rate",
    "/engineer/certificates/trust",
    "/engineer/certificates/reject",
]
PAGES = [
    "/engineer/devices",
    "/engineer/tag",
    "/engineer/simulator",
    "/engineer/config",
    "/engineer/certificates",
]


@dataclass
class EngineerHmi(Hmi):
    app: FastAPI
    config: SiteConfig
    site_file: Path


def engineer_app(
    site: Site,
    config: SiteConfig,
    clock: Clock,
    *,
    board: DeviceBoard | None = None,
    simulation: LineSimulation | None = None,
) -> FastAPI:
    limiter = LoginLimiter(LoginLimits(window_s=60, per_address=50, per_username=10))
    sessions = HmiSessions(site.users, idle_timeout_s=IDLE_S, limiter=limiter, clock=clock)
    app = create_hmi_app(
        site.users,
        LineConsole(site.users),
        line_name="Line 1",
        settings=HmiSettings(idle_timeout_s=IDLE_S),
        sessions=sessions,
    )
    install_engineer(
        app,
        site=config,
        trail=site.trail,
        board=board,
        simulation=simulation,
        probe_timeout_s=PROBE_TIMEOUT_S,
    )
    return app


@pytest.fixture
async def engineer_hmi(engine: Engine, tmp_path: Path) -> AsyncIterator[EngineerHmi]:
    site = Site(engine)
    site.add("op.li", Role.OPERATOR)
    site.add("qa.wang", Role.QA)
    site.add("eng.zhao", Role.ENGINEER)
    site.add("sup.chen", Role.SUPERVISOR)
    site_file = write_demo_site(tmp_path / "site")
    config = load_site(site_file)
    clock = Clock()
    app = engineer_app(site, config, clock)
    transport = httpx.ASGITransport(app=app, client=("192.0.2.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hmi") as client:
        yield EngineerHmi(site, clock, client, app, config, site_file)
