"""The HMI a site serves (the demo's) holds every part: the operator's line, QA's review and
the engineer's screens, each reached by its own role through one log-in page."""

from __future__ import annotations

from pathlib import Path

import httpx

from ebr.users import Role, Users
from gateway.commands.demo_hmi import ensure_account
from gateway.hmi.console import LineConsole
from gateway.hmi.site_app import site_hmi_app
from gateway.line.testbed import open_simulated_site, write_demo_site
from tests.gateway.hmi.hmi_fixtures import token_of

OPERATOR = "op.site"
PASSWORD = "Site-hmi-2026-pass"


async def _logged_in(http: httpx.AsyncClient, username: str) -> None:
    page = await http.get("/login")
    response = await http.post(
        "/login",
        data={"csrf_token": token_of(page), "username": username, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text


async def test_the_site_hmi_serves_operator_qa_and_engineer_screens(tmp_path: Path) -> None:
    site = open_simulated_site(
        write_demo_site(tmp_path), operator=OPERATOR, password=PASSWORD, full_name="Site Op"
    )
    try:
        users = Users(site.store.audit)
        admin = (f"{OPERATOR}.admin", PASSWORD)
        ensure_account(users, "qa.site", PASSWORD, "Site QA", Role.QA, admin)
        ensure_account(users, "eng.site", PASSWORD, "Site Engineer", Role.ENGINEER, admin)
        app = site_hmi_app(site.store, site.line, LineConsole(users))
        expected = {
            OPERATOR: {"/line": 200, "/qa": 403, "/engineer/devices": 403},
            "qa.site": {"/line": 200, "/qa": 200, "/engineer/devices": 403},
            "eng.site": {"/line": 200, "/qa": 403, "/engineer/devices": 200},
        }
        for username, pages in expected.items():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hmi") as http:
                await _logged_in(http, username)
                seen = {path: (await http.get(path)).status_code for path in pages}
                assert seen == pages, username
    finally:
        site.store.close()
