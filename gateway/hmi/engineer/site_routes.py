"""The running site file checked as `tracegate check-config` does, and the OPC UA server's
certificate trust lists as `tracegate certs` shows and changes them."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from config import check_site_file
from gateway.hmi.access import actor_for
from gateway.hmi.engineer.context import ENGINEER, engineer_context, engineering_viewer
from gateway.hmi.engineer.pages import page
from gateway.hmi.engineer.trust_lists import (
    TrustListError,
    certificate_rows,
    change_trust,
    trust_folders,
)
from gateway.hmi.errors import HmiError
from gateway.hmi.forms import field
from gateway.hmi.sessions import HmiSession

router = APIRouter()


@router.get("/engineer/config")
async def config_check_page(request: Request) -> Response:
    session = engineering_viewer(request)
    source = engineer_context(request).site.source
    if source is None:
        raise HmiError(
            409,
            "the running configuration was not loaded from a site file",
            where="the gateway's configuration",
            fix="start the gateway with --config SITE_FILE to check it here",
        )
    report = await asyncio.to_thread(check_site_file, source)
    return page(
        request,
        session,
        "eng_config.html",
        site_file=str(source),
        problems=report.problems,
        errors=len(report.errors),
        warnings=len(report.warnings),
    )


def _certificates_page(
    request: Request, session: HmiSession, *, status: int = 200, **extra: object
) -> Response:
    context = engineer_context(request)
    try:
        rows = certificate_rows(trust_folders(context.site))
    except TrustListError as error:
        raise HmiError(409, error.what, where=error.where, fix=error.fix) from None
    return page(request, session, "eng_certificates.html", status=status, rows=rows, **extra)


@router.get("/engineer/certificates")
def certificates_page(request: Request) -> Response:
    session = engineering_viewer(request)
    return _certificates_page(request, session)


@router.post("/engineer/certificates/{verb}")
async def change_certificate(request: Request, verb: str) -> Response:
    session, form = await actor_for(request, ENGINEER)
    if verb not in ("trust", "reject"):
        raise HmiError(
            404, f"no certificate action {verb!r}", where=request.url.path, fix="trust or reject"
        )
    context = engineer_context(request)
    try:
        folders = trust_folders(context.site)
        await asyncio.to_thread(
            change_trust,
            folders,
            context.trail,
            session.user,
            field(form, "file"),
            trust=verb == "trust",
            reason=field(form, "reason"),
        )
    except TrustListError as error:
        failed = HmiError(400, error.what, where=error.where, fix=error.fix)
        return _certificates_page(request, session, status=400, failed=failed, entered=form)
    return RedirectResponse(f"/engineer/certificates?done={verb}", status_code=303)
