"""Failed log-ins are rate limited per source address and per user name: 429 with Retry-After
before the password is checked, on the bearer log-in and on basic credentials alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from ebr.audit.models import AuditEntry
from gateway.api import create_app
from gateway.api.login_limit import LoginLimiter, LoginLimits
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.api.api_fixtures import assert_problem, site
from tests.gateway.trace_site import TraceSite

__all__ = ["site"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def http(site: TraceSite, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    limiter = LoginLimiter(LoginLimits(window_s=60, per_address=4, per_username=2), clock=clock)
    app = create_app(site.config, site.store, users=site.users, login_limiter=limiter)
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


def audit_entries(site: TraceSite) -> int:
    with site.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


async def login(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/sessions", json={"username": username, "password": password})


async def test_a_user_name_is_blocked_after_its_failures_until_the_window_passes(
    http: httpx.AsyncClient, site: TraceSite, clock: Clock
) -> None:
    for _ in range(2):
        assert_problem(await login(http, "ghost", "guess"), 401)
    audited = audit_entries(site)
    blocked = await login(http, "ghost", "guess")
    body = assert_problem(blocked, 429, "2 failed log-ins", "user name 'ghost'", "wait 60 s")
    assert body["where"] == "user name 'ghost'"
    assert blocked.headers["retry-after"] == "60"
    assert audit_entries(site) == audited

    clock.now += 45
    assert (await login(http, "ghost", "guess")).headers["retry-after"] == "15"
    clock.now += 15
    assert_problem(await login(http, "ghost", "guess"), 401)


async def test_an_address_spraying_user_names_is_blocked_also_for_basic_credentials(
    http: httpx.AsyncClient, site: TraceSite
) -> None:
    for name in ("a1", "a2", "a3", "a4"):
        assert_problem(await login(http, name, "guess"), 401)
    assert_problem(await login(http, "qa1", PASSWORD), 429, "address 192.0.2.7")
    basic = await http.get(f"/api/trace/batch/{site.traced.batch}", auth=("qa1", PASSWORD))
    assert_problem(basic, 429, "4 failed log-ins from address 192.0.2.7")


async def test_a_successful_log_in_clears_its_user_names_failures(
    http: httpx.AsyncClient,
) -> None:
    assert_problem(await login(http, "op1", "wrong"), 401)
    assert (await login(http, "op1", PASSWORD)).status_code == 201
    assert_problem(await login(http, "op1", "wrong"), 401)
    assert_problem(await login(http, "op1", "wrong"), 401)
    assert_problem(await login(http, "op1", PASSWORD), 429, "user name 'op1'")


def test_limits_must_allow_an_attempt() -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        LoginLimits(per_username=0)
