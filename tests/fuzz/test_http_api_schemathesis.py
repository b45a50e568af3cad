"""Schemathesis against the app's own OpenAPI document: for every operation, requests built
from the document's schemas (valid ones and, as schemathesis does, ones that break them), as
a signed-in QA user and as nobody. The app must never fail with a server error, and every
error is an RFC 9457 problem with its `fix` (fuzz/http_api.py does the same with raw bytes,
under atheris in `make fuzz`)."""

from __future__ import annotations

import base64
import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from fuzz.http_api import app_under_fuzz
from gateway.api.app import OPENAPI_URL
from tests.gateway.api.api_fixtures import QA as QA_USER

EXAMPLES = int(os.environ.get("FUZZ_API_EXAMPLES", "25"))
"""Per operation; `make fuzz` asks for 500, at random (`FUZZ_API_RANDOM`), where `make test`
runs the same 25 each time."""
schema = schemathesis.openapi.from_asgi(OPENAPI_URL, app_under_fuzz())
QA = {"Authorization": "Basic " + base64.b64encode(":".join(QA_USER).encode()).decode()}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="FUZZ_API_RANDOM" not in os.environ,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_request_without_a_server_error(case: schemathesis.Case[Any]) -> None:
    for headers in (QA, None):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
        if response.status_code >= 400:
            assert response.headers["content-type"][0].startswith("application/problem+json")
            assert response.json().get("fix"), response.text
