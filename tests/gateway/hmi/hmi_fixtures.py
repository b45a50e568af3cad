"""The HMI app over a real SQLite store with users of every role and a settable clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine

from ebr.users import Role
from gateway.api.login_limit import LoginLimiter, LoginLimits
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app
from gateway.hmi.sessions import HmiSessions
from tests.ebr.audit.audit_users import OWN, Site

IDLE_S = 600.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Hmi:
    site: Site
    clock: Clock
    http: httpx.AsyncClient

    async def log_in(self, username: str, password: str = OWN) -> str:
        """Log in through the form; returns the session's CSRF token."""
        page = await self.http.get("/login")
        response = await self.http.post(
            "/login",
            data={"csrf_token": token_of(page), "username": username, "password": password},
        )
        assert response.status_code == 303, response.text
        line = await self.http.get("/line")
        assert line.status_code == 200, line.text
        return token_of(line)


def token_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


@pytest.fixture
async def hmi(engine: Engine) -> AsyncIterator[Hmi]:
    site = Site(engine)
    site.add("op.li", Role.OPERATOR)
    site.add("qa.wang", Role.QA)
    clock = Clock()
    limiter = LoginLimiter(LoginLimits(window_s=60, per_address=50, per_username=10))
    sessions = HmiSessions(site.users, idle_timeout_s=IDLE_S, limiter=limiter, clock=clock)
    app = create_hmi_app(
        site.users,
        LineConsole(site.users),
        line_name="Line 1",
        settings=HmiSettings(idle_timeout_s=IDLE_S),
        sessions=sessions,
    )
    transport = httpx.ASGITransport(app=app, client=("192.0.2.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hmi") as client:
        yield Hmi(site, clock, client)
