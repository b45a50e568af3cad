"""QA's batches by status, a batch's record by exception (the full record on demand), its
report as PDF and JSON, acknowledging an exception, and the signed decisions."""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ebr.report import collect_report, render_json, render_pdf
from gateway.hmi.access import actor_for
from gateway.hmi.actions import Failure
from gateway.hmi.context import frame
from gateway.hmi.errors import HmiError
from gateway.hmi.forms import field
from gateway.hmi.i18n import CHINESE
from gateway.hmi.qa.batches import STATUSES, BatchRow, batch_row, batch_rows
from gateway.hmi.qa.context import DECIDE, qa_context, reviewer
from gateway.hmi.qa.decisions import SIGNED, Refusal, run, sign_decision
from gateway.hmi.qa.downloads import download
from gateway.hmi.qa.texts import DECISIONS, DONE, KINDS, MEANINGS, SEVERITIES, day, utc
from gateway.hmi.rendering import render
from gateway.hmi.sessions import HmiSession
from gateway.hmi.texts import PHASES
from serialization.lifecycle import BatchPhase

router = APIRouter()


@router.get("/qa")
def batches_page(request: Request, status: str = "") -> Response:
    session = reviewer(request)
    if status and status not in STATUSES:
        raise HmiError(
            400,
            f"unknown batch status {status!r}",
            where="filter status",
            fix=f"choose one of: {', '.join(STATUSES)}",
        )
    rows = batch_rows(qa_context(request).engine, status or None)
    return render(
        request,
        "qa_batches.html",
        session.language,
        **frame(
            request,
            session,
            rows=rows,
            chosen_status=status,
            statuses=STATUSES,
            phases=PHASES,
            day=lambda value: day(value, session.language),
        ),
    )


@router.get("/qa/batches/{batch_id}")
async def batch_page(request: Request, batch_id: int, full: int = 0, done: str = "") -> Response:
    session = reviewer(request)
    return await _batch_view(request, session, batch_id, full=bool(full), done=DONE.get(done))


@router.get("/qa/batches/{batch_id}/report.pdf")
async def report_pdf(request: Request, batch_id: int) -> Response:
    session = reviewer(request)
    await _row(request, batch_id)
    report = await asyncio.to_thread(collect_report, qa_context(request).engine, batch_id)
    lang = "zh-CN" if session.language == CHINESE else "en"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        await asyncio.to_thread(render_pdf, report, lang, path)
        content = path.read_bytes()
    return download(content, "application/pdf", f"batch-{batch_id}-{lang}.pdf")


@router.get("/qa/batches/{batch_id}/report.json")
async def report_json(request: Request, batch_id: int) -> Response:
    reviewer(request)
    await _row(request, batch_id)
    report = await asyncio.to_thread(collect_report, qa_context(request).engine, batch_id)
    content = json.dumps(render_json(report), ensure_ascii=False, indent=1).encode()
    return download(content, "application/json", f"batch-{batch_id}.json")


@router.post("/qa/batches/{batch_id}/exceptions/{exception_id}/ack")
async def acknowledge(request: Request, batch_id: int, exception_id: int) -> Response:
    session, form = await actor_for(request, DECIDE)
    comment = field(form, "comment").strip()
    refusal: Refusal | None
    if not comment:
        refusal = Refusal(
            Failure(
                f"acknowledging exception {exception_id} needs a comment",
                "say what was checked and why the exception is acceptable",
                400,
            )
        )
    else:
        record = qa_context(request).record
        refusal = await run(lambda: record.acknowledge(exception_id, session.user, comment))
    if refusal is None:
        return RedirectResponse(f"/qa/batches/{batch_id}?done=ack", status_code=303)
    return await _batch_view(
        request,
        session,
        batch_id,
        refusal=refusal,
        drafts={exception_id: comment},
        status=refusal.failure.status,
    )


@router.get("/qa/batches/{batch_id}/sign/{decision}")
async def sign_page(request: Request, batch_id: int, decision: str) -> Response:
    session = reviewer(request)
    _known(decision, request)
    row = await _row(request, batch_id)
    return _sign_view(request, session, row, decision)


@router.post("/qa/batches/{batch_id}/sign/{decision}")
async def sign(request: Request, batch_id: int, decision: str) -> Response:
    _known(decision, request)
    session, form = await actor_for(request, DECIDE)
    row = await _row(request, batch_id)
    reason = field(form, "reason").strip()
    refusal: Refusal | None
    if decision == "reject" and not reason:
        refusal = Refusal(
            Failure(
                f"rejecting batch {batch_id} needs a reason", "say why the batch is rejected", 400
            )
        )
    else:
        refusal = await sign_decision(
            request, session, batch_id, decision, field(form, "password"), reason
        )
    if refusal is None:
        return RedirectResponse(f"/qa/batches/{batch_id}?done={decision}", status_code=303)
    return _sign_view(
        request,
        session,
        row,
        decision,
        refusal=refusal,
        reason=reason,
        status=refusal.failure.status,
    )


async def _batch_view(
    request: Request,
    session: HmiSession,
    batch_id: int,
    *,
    full: bool = False,
    done: str | None = None,
    refusal: Refusal | None = None,
    drafts: dict[int, str] | None = None,
    status: int = 200,
) -> Response:
    context = qa_context(request)
    row = await _row(request, batch_id)
    record = context.record
    deciding = session.user.role in DECIDE
    if deciding and row.status == BatchPhase.RECONCILED.value:
        await asyncio.to_thread(record.collect_review_exceptions, batch_id)
    items = await asyncio.to_thread(record.exceptions, batch_id, include_acknowledged=True)
    items.sort(key=lambda item: (item.acknowledged, item.id))
    blockers = await asyncio.to_thread(record.release_blockers, batch_id)
    report = await asyncio.to_thread(collect_report, context.engine, batch_id) if full else None
    return render(
        request,
        "qa_batch.html",
        session.language,
        status=status,
        **frame(
            request,
            session,
            batch=row,
            exceptions=items,
            blockers=blockers,
            report=report,
            full=full,
            done=done,
            failed=refusal.failure if refusal else None,
            drafts=drafts or {},
            deciding=deciding,
            kinds=KINDS,
            severities=SEVERITIES,
            meanings=MEANINGS,
            utc=utc,
            phases=PHASES,
        ),
    )


def _sign_view(
    request: Request,
    session: HmiSession,
    row: BatchRow,
    decision: str,
    *,
    refusal: Refusal | None = None,
    reason: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "qa_sign.html",
        session.language,
        status=status,
        **frame(
            request,
            session,
            batch=row,
            decision=decision,
            meaning=DECISIONS[decision],
            now=datetime.now(UTC),
            failed=refusal.failure if refusal else None,
            reasons=refusal.reasons if refusal else (),
            reason=reason,
            phases=PHASES,
            deciding=session.user.role in DECIDE,
        ),
    )


async def _row(request: Request, batch_id: int) -> BatchRow:
    row = await asyncio.to_thread(batch_row, qa_context(request).engine, batch_id)
    if row is None:
        raise HmiError(
            404,
            f"there is no batch {batch_id}",
            where=request.url.path,
            fix="pick a batch from the list",
        )
    return row


def _known(decision: str, request: Request) -> None:
    if decision not in SIGNED:
        raise HmiError(
            404,
            f"no signed decision {decision!r}",
            where=request.url.path,
            fix=f"use one of: {', '.join(SIGNED)}",
        )
