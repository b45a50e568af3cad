"""POST /api/recall: who may, what it marks, and the problems for what it refuses."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from ebr.models import JournalEventRow
from tests.gateway.api.api_fixtures import OPERATOR, QA, assert_problem, client, site
from tests.gateway.trace_site import TraceSite

__all__ = ["client", "site"]


def _events(site: TraceSite) -> int:
    with site.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(JournalEventRow)).scalar_one())


async def test_qa_recalls_a_batch(client: httpx.AsyncClient, site: TraceSite) -> None:
    batch = site.traced.batch
    response = await client.post(
        "/api/recall", json={"batch_id": batch, "reason": "stability failure"}, auth=QA
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["recalled"] == 14
    assert body["unchanged"] == {"Sampled": 1, "LabelScrapped": 1, "SNInvalid": 2}
    assert [ref["batch_id"] for ref in body["journal"]] == [batch]
    traced = (await client.get(f"/api/trace/code/{site.traced.units[0]}", auth=QA)).json()
    assert traced["state"] == "Inactive"
    assert traced["recall"]["user"] == "qa1"
    assert traced["recall"]["reason"] == "stability failure"
    again = await client.post("/api/recall", json={"batch_id": batch, "reason": "again"}, auth=QA)
    assert (again.json()["recalled"], again.json()["already_recalled"]) == (0, 14)


async def test_a_supervisor_recalls_printed_codes_with_a_bearer_token(
    client: httpx.AsyncClient, site: TraceSite
) -> None:
    login = await client.post("/api/sessions", json={"username": "sup1", "password": QA[1]})
    token = login.json()["token"]
    case = site.traced.cases[2]
    response = await client.post(
        "/api/recall",
        json={"codes": [f"(00){case[2:]}"], "reason": "water damage"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["recalled"] == 3


async def test_refused_recalls_are_problems_and_write_nothing(
    client: httpx.AsyncClient, site: TraceSite
) -> None:
    before = _events(site)
    batch = site.traced.batch
    operator = await client.post(
        "/api/recall", json={"batch_id": batch, "reason": "x"}, auth=OPERATOR
    )
    assert_problem(operator, 403, "only QA or a supervisor")
    running = await client.post(
        "/api/recall", json={"batch_id": site.traced.other_batch, "reason": "x"}, auth=QA
    )
    assert_problem(running, 409, "running", "body.batch_id")
    unknown = await client.post(
        "/api/recall",
        json={"codes": [site.traced.units[0], "(01)09501101530003(21)NEVER"], "reason": "x"},
        auth=QA,
    )
    assert assert_problem(unknown, 404, "never issued")["where"] == "body.codes.1"
    assert_problem(
        await client.post("/api/recall", json={"batch_id": 999, "reason": "x"}, auth=QA), 404
    )
    for body, word in (
        ({"reason": "x"}, "either batch_id or codes"),
        ({"batch_id": batch, "codes": ["a"], "reason": "x"}, "either batch_id or codes"),
        ({"batch_id": batch}, "reason"),
        ({"batch_id": batch, "reason": ""}, "reason"),
        ({"batch_id": batch, "reason": "x", "extra": 1}, "extra"),
        ({"codes": [], "reason": "x"}, "codes"),
        ({"batch_id": batch, "reason": "bad\u0000text"}, "control characters"),
    ):
        status = 422
        assert_problem(await client.post("/api/recall", json=body, auth=QA), status, word)
    assert_problem(await client.post("/api/recall", content=b"{not json", auth=QA), 422)
    assert_problem(await client.post("/api/recall", json={"batch_id": batch, "reason": "x"}), 401)
    assert _events(site) == before
