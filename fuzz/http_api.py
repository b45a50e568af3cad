"""Harness for the HTTP API: every operation of the app's own OpenAPI document, called with
fuzzed path parameters, query and JSON bodies. The app must never fail with a server error,
and every error must be an RFC 9457 problem (`application/problem+json` with its `fix`).

Log-in limits apply, on a clock that moves 1000 s per look so they do not shut the fuzzer out.
The site is a throwaway SQLite site with traced batches, built once per process by the same
helper the API tests use (`tests/gateway/trace_site.py`).
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import itertools
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI

from fuzz.bytes_input import split_fields, text_of
from gateway.api import create_app
from gateway.api.login_limit import LoginLimiter
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.trace_site import trace_site

CREDENTIALS = (None, ("qa1", PASSWORD), ("op1", PASSWORD), ("qa1", "not-the-password"))


class ApiCaller:
    """Calls the app in-process through httpx's ASGI transport on a loop of its own."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._loop = asyncio.new_event_loop()
        atexit.register(self._loop.close)

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, path, **options))


@functools.cache
def app_under_fuzz() -> FastAPI:
    """The app on a throwaway traced site (removed at exit)."""
    folder = tempfile.TemporaryDirectory(prefix="tracegate-fuzz-api-")
    site = trace_site(Path(folder.name))
    fast_clock = itertools.count(0.0, 1000.0)
    limiter = LoginLimiter(clock=lambda: next(fast_clock))
    atexit.register(folder.cleanup)
    atexit.register(site.store.close)
    return create_app(site.config, site.store, users=site.users, login_limiter=limiter)


@functools.cache
def api() -> tuple[ApiCaller, list[tuple[str, str]]]:
    """The app's caller and its (method, path template) operations."""
    app = app_under_fuzz()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = ApiCaller(httpx.AsyncClient(transport=transport, base_url="http://gateway"))
    operations = sorted(
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    )
    return client, operations


def fuzz_http_api(data: bytes) -> None:
    client, operations = api()
    selector = data[0] if data else 0
    method, template = operations[selector % len(operations)]
    raw_param, raw_query, body = split_fields(data[1:], 3)
    param, query = text_of(raw_param), text_of(raw_query)
    path = template
    while "{" in path:
        start = path.index("{")
        path = path[:start] + quote(param, safe="") + path[path.index("}", start) + 1 :]
    auth = CREDENTIALS[(selector >> 4) % len(CREDENTIALS)]
    response = client.request(
        method,
        path,
        params={"q": query, "limit": query, "cursor": query} if query else None,
        content=body if method in ("POST", "PUT", "PATCH") else None,
        headers={"content-type": "application/json"},
        auth=auth,
    )
    assert response.status_code < 500, (method, path, response.status_code, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), (
            method,
            path,
            response.status_code,
            response.headers["content-type"],
        )
        assert response.json().get("fix"), (method, path, response.text)
