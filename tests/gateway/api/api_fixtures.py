"""The API of a site with traced batches, called in-process through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.api import create_app
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.trace_site import TraceSite, trace_site

QA = ("qa1", PASSWORD)
OPERATOR = ("op1", PASSWORD)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[TraceSite]:
    made = trace_site(tmp_path)
    yield made
    made.store.close()


@pytest.fixture
async def client(site: TraceSite) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(site.config, site.store, users=site.users)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


def assert_problem(response: httpx.Response, status: int, *words: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert all(body.get(name) for name in ("title", "detail", "fix")), body
    for word in words:
        assert word in str(body), (word, body)
    return body
