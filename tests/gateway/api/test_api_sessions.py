"""Log-in for a bearer token, log-out, the session timeout, and the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta

import httpx

from ebr.users import SecurityPolicy, Users
from gateway.api import create_app
from tests.ebr.trace_fixtures import FAST_HASHER, PASSWORD
from tests.gateway.api.api_fixtures import assert_problem, client, site
from tests.gateway.trace_site import TraceSite

__all__ = ["client", "site"]


async def test_a_token_works_until_log_out(client: httpx.AsyncClient, site: TraceSite) -> None:
    login = await client.post("/api/sessions", json={"username": "op1", "password": PASSWORD})
    assert login.status_code == 201, login.text
    body = login.json()
    assert (body["username"], body["role"], body["idle_timeout_s"]) == ("op1", "operator", 900)
    bearer = {"Authorization": f"Bearer {body['token']}"}
    url = f"/api/trace/batch/{site.traced.batch}?limit=1"
    assert (await client.get(url, headers=bearer)).status_code == 200
    assert (await client.delete("/api/sessions/current", headers=bearer)).status_code == 204
    assert_problem(await client.get(url, headers=bearer), 401, "session ended")
    assert_problem(await client.delete("/api/sessions/current"), 401, "bearer token")
    wrong = await client.post("/api/sessions", json={"username": "op1", "password": "nope"})
    assert_problem(wrong, 401, "wrong user name or password")
    assert_problem(await client.post("/api/sessions", json={"username": "op1"}), 422, "password")


async def test_an_idle_session_ends(site: TraceSite) -> None:
    now = [site.store.audit.now()]
    site.store.audit._clock = lambda: now[0]  # type: ignore[attr-defined]
    users = Users(
        site.store.audit,
        hasher=FAST_HASHER,
        policy=SecurityPolicy(session_timeout=timedelta(minutes=1)),
    )
    app = create_app(site.config, site.store, users=users)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as http:
        token = (
            await http.post("/api/sessions", json={"username": "qa1", "password": PASSWORD})
        ).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await http.get(f"/api/trace/batch/{site.traced.batch}", headers=bearer)).is_success
        now[0] += timedelta(minutes=2)
        expired = await http.get(f"/api/trace/batch/{site.traced.batch}", headers=bearer)
        assert_problem(expired, 401, "timed out")


async def test_the_openapi_schema_describes_every_route_and_its_problems(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert set(paths) >= {
        "/api/trace/code/{code}",
        "/api/trace/batch/{batch_id}",
        "/api/recall",
        "/api/sessions",
        "/api/sessions/current",
    }
    recall = paths["/api/recall"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(recall["responses"])
    problem = recall["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert problem["$ref"].endswith("/Problem")
    schemes = schema["components"]["securitySchemes"]
    assert {scheme["scheme"] for scheme in schemes.values()} == {"basic", "bearer"}
    assert (await client.get("/api/docs")).status_code == 200
