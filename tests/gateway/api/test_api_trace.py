"""GET /api/trace/code/{code} and /api/trace/batch/{id}: answers and problems."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.gateway.api.api_fixtures import OPERATOR, QA, assert_problem, client, site
from tests.gateway.trace_site import TraceSite

__all__ = ["client", "site"]


async def test_a_code_in_any_printed_form_is_traced(
    client: httpx.AsyncClient, site: TraceSite
) -> None:
    unit = site.traced.units[1]
    serial = unit[18:]
    for form in (
        unit,
        f"(01)09501101530003(17)280131(10)L-1(21){serial}",
        f"https://id.gs1.org/01/09501101530003/21/{serial}",
    ):
        response = await client.get(f"/api/trace/code/{quote(form, safe='')}", auth=OPERATOR)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["code"], body["level"], body["state"]) == (unit, "unit", "Commissioned")
    assert body["batch"]["lot"] == "L-1"
    assert body["batch"]["expiry"] == "2028-01-31"
    assert body["batch"]["product"]["nmpa_drug_id"] == "8612345"
    assert [p["code"] for p in body["parents"]] == [site.traced.cases[0], site.traced.pallets[0]]
    assert body["shipments"] == []
    assert body["recall"] is None
    assert [h["kind"] for h in body["history"]] == [
        "unit.issued",
        "unit.accepted",
        "aggregation.packed",
    ]


async def test_a_pallet_is_traced_down_to_its_units(
    client: httpx.AsyncClient, site: TraceSite
) -> None:
    response = await client.get(f"/api/trace/code/{site.traced.pallets[0]}", auth=QA)
    body = response.json()
    assert [case["code"] for case in body["children"]] == site.traced.cases[:2]
    assert [u["code"] for u in body["children"][0]["children"]] == site.traced.units[:4]


async def test_a_batch_is_listed_a_page_at_a_time(
    client: httpx.AsyncClient, site: TraceSite
) -> None:
    batch = site.traced.batch
    first = (await client.get(f"/api/trace/batch/{batch}?limit=10", auth=QA)).json()
    assert first["total"] == 18
    assert len(first["codes"]) == 10
    assert first["counts"]["pallet"] == {"Commissioned": 1, "SNInvalid": 1}
    rest = (
        await client.get(f"/api/trace/batch/{batch}?cursor={first['next_cursor']}", auth=QA)
    ).json()
    assert rest["next_cursor"] is None
    codes = [c["code"] for c in first["codes"] + rest["codes"]]
    assert len(set(codes)) == 18
    parents = {c["code"]: c["parent"] for c in first["codes"] + rest["codes"]}
    assert parents[site.traced.units[0]] == site.traced.cases[0]


async def test_unknown_codes_and_batches_are_problems(client: httpx.AsyncClient) -> None:
    never = await client.get("/api/trace/code/(01)09501101530003(21)NEVER", auth=QA)
    body = assert_problem(never, 404, "never issued by this site")
    assert body["where"] == "path parameter code"
    assert body["instance"] == "/api/trace/code/(01)09501101530003(21)NEVER"
    assert_problem(
        await client.get("/api/trace/code/hello", auth=QA), 404, "not a code this site can read"
    )
    assert_problem(await client.get("/api/trace/code/ab%00cd", auth=QA), 404, "control")
    assert_problem(await client.get("/api/trace/batch/999", auth=QA), 404, "batch 999")
    invalid = assert_problem(await client.get("/api/trace/batch/zero", auth=QA), 422, "batch_id")
    assert invalid["where"] == "path.batch_id"
    assert_problem(await client.get("/api/trace/batch/1?limit=0", auth=QA), 422, "limit")
    assert_problem(await client.get("/api/nothing-here", auth=QA), 404, "Not Found")


async def test_reads_need_a_user(client: httpx.AsyncClient, site: TraceSite) -> None:
    url = f"/api/trace/code/{site.traced.units[0]}"
    missing = await client.get(url)
    assert_problem(missing, 401, "needs a logged-in user")
    assert "Basic" in missing.headers["www-authenticate"]
    assert_problem(await client.get(url, auth=("qa1", "wrong-password-1")), 401, "wrong user")
    garbled = await client.get(url, headers={"Authorization": "Basic !!!"})
    assert_problem(garbled, 401)
    token = await client.get(url, headers={"Authorization": "Bearer no-such-token"})
    assert_problem(token, 401, "bearer token is unknown")
