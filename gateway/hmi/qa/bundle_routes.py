"""Verify an evidence bundle in the browser: the file `tracegate audit export-bundle` (or the
audit trail page) writes, checked with the same offline verifier an auditor runs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ebr.audit.verifier import BUNDLE_FORMAT, VerificationReport, verify_bundle
from gateway.hmi.actions import Failure
from gateway.hmi.context import frame
from gateway.hmi.qa.context import REVIEW, reviewer
from gateway.hmi.qa.upload import uploader_for
from gateway.hmi.rendering import render
from gateway.hmi.sessions import HmiSession

router = APIRouter()
FIELD = "bundle"


@router.get("/qa/bundle")
def bundle_page(request: Request) -> Response:
    session = reviewer(request)
    return _page(request, session)


@router.post("/qa/bundle")
async def verify(request: Request) -> Response:
    session, upload = await uploader_for(request, REVIEW)
    sent = upload.files.get(FIELD)
    if sent is None or not sent[1]:
        return _page(
            request,
            session,
            failed=Failure(
                "no bundle file was sent", "choose the bundle's JSON file, then verify", 400
            ),
        )
    name, content = sent
    try:
        bundle = _bundle(content)
    except ValueError as error:
        return _page(
            request,
            session,
            name=name,
            failed=Failure(
                f"{name}: {error}",
                "choose a file written by `tracegate audit export-bundle` or the audit trail page",
                400,
            ),
        )
    report = await asyncio.to_thread(verify_bundle, bundle)
    return _page(request, session, name=name, report=report)


def _bundle(content: bytes) -> dict[str, Any]:
    try:
        data = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON (line {error.lineno}): {error.msg}") from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"not a {BUNDLE_FORMAT} evidence bundle")
    return data


def _page(
    request: Request,
    session: HmiSession,
    *,
    name: str | None = None,
    report: VerificationReport | None = None,
    failed: Failure | None = None,
) -> Response:
    return render(
        request,
        "qa_bundle.html",
        session.language,
        status=failed.status if failed else 200,
        **frame(request, session, name=name, report=report, failed=failed),
    )
