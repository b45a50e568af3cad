"""The audit trail for QA: filtered, paginated, and exported as CSV, as PDF and as the
evidence bundle an auditor verifies away from the gateway."""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ebr.audit.bundle import build_bundle
from ebr.audit.pdf_export import export_pdf
from ebr.audit.trail import AuditTrail
from gateway.hmi.context import frame
from gateway.hmi.errors import HmiError
from gateway.hmi.qa.audit_query import AuditFilter, audit_page, parse_filter
from gateway.hmi.qa.context import qa_context, reviewer
from gateway.hmi.qa.downloads import download
from gateway.hmi.qa.texts import utc
from gateway.hmi.rendering import render

router = APIRouter()


@router.get("/qa/audit")
async def audit_trail_page(request: Request) -> Response:
    session = reviewer(request)
    chosen = parse_filter(dict(request.query_params))
    page = _page_number(request)
    context = qa_context(request)
    found = await asyncio.to_thread(audit_page, context.engine, chosen, page, context.page_size)
    values = chosen.query_values()
    return render(
        request,
        "qa_audit.html",
        session.language,
        **frame(
            request,
            session,
            found=found,
            chosen=values,
            query=urlencode(values),
            utc=utc,
            link=lambda number: "/qa/audit?" + urlencode({**values, "page": number}),
        ),
    )


@router.get("/qa/audit.csv")
async def audit_csv(request: Request) -> Response:
    reviewer(request)
    chosen = parse_filter(dict(request.query_params))
    out = io.StringIO()
    trail = qa_context(request).trail
    await asyncio.to_thread(trail.export_csv, out, **chosen.trail_filters())
    return download(out.getvalue().encode("utf-8"), "text/csv; charset=utf-8", "audit-trail.csv")


@router.get("/qa/audit.pdf")
async def audit_pdf(request: Request) -> Response:
    reviewer(request)
    chosen = parse_filter(dict(request.query_params))
    trail = qa_context(request).trail
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit-trail.pdf"
        await asyncio.to_thread(_write_pdf, trail, path, chosen)
        content = path.read_bytes()
    return download(content, "application/pdf", "audit-trail.pdf")


@router.get("/qa/audit/bundle.json")
async def evidence_bundle(request: Request) -> Response:
    reviewer(request)
    engine = qa_context(request).engine

    def bundle() -> bytes:
        with engine.connect() as conn:
            return json.dumps(build_bundle(conn), ensure_ascii=False, indent=1).encode()

    content = await asyncio.to_thread(bundle)
    return download(content, "application/json", "evidence-bundle.json")


def _write_pdf(trail: AuditTrail, path: Path, chosen: AuditFilter) -> None:
    export_pdf(trail, path, title="Audit trail", **chosen.trail_filters())


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1").strip() or "1"
    if not text.isdigit() or int(text) < 1:
        raise HmiError(
            400, f"{text!r} is not a page number", where="page", fix="use a page number from 1"
        )
    return int(text)
