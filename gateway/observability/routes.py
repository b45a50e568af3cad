"""`GET /metrics` (Prometheus), `/healthz` (the process answers) and `/readyz` (it can work).

Served by the gateway's web app (`gateway.api.create_app`) and, for the long-running gateway
(`tracegate opcua serve`, `tracegate run`), by `observability_app` on the `--http` address.
None of them needs a user: they carry no records, no serials and no batch numbers. `/readyz`
answers 503 with a problem (application/problem+json) naming each failing check, where it
failed and how to fix it.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.observability.hub import Observability
from gateway.observability.metrics import CONTENT_TYPE
from gateway.observability.readiness import CheckResult, ReadinessReport

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"

router = APIRouter(tags=["operations"])


def observability(request: Request) -> Observability:
    found: Observability = request.app.state.observability
    return found


Watched = Annotated[Observability, Depends(observability)]


class Alive(BaseModel):
    status: str = "alive"
    version: str
    uptime_s: float


class Check(BaseModel):
    name: str
    ok: bool
    detail: str
    where: str | None = None
    fix: str | None = None


class Ready(BaseModel):
    ready: bool
    checks: list[Check] = Field(description="every check, in the order they ran")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "the text format"}},
)
def get_metrics(watched: Watched) -> Response:
    return Response(watched.metrics.exposition(), media_type=CONTENT_TYPE)


@router.get("/healthz", summary="Liveness: the process answers", response_model=Alive)
async def get_healthz(watched: Watched) -> Alive:
    return Alive(version=watched.version, uptime_s=round(watched.uptime_s, 3))


@router.get(
    "/readyz",
    summary="Readiness: database writable, devices up, OPC UA server listening",
    response_model=Ready,
    responses={503: {"description": "a check failed", "content": {PROBLEM_MEDIA_TYPE: {}}}},
)
def get_readyz(request: Request, watched: Watched) -> JSONResponse:
    report = watched.readiness.evaluate()
    checks = [_check(result).model_dump(exclude_none=True) for result in report.results]
    if report.ready:
        return JSONResponse({"ready": True, "checks": checks})
    return JSONResponse(
        _not_ready(report) | {"instance": request.url.path, "checks": checks},
        status_code=503,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _not_ready(report: ReadinessReport) -> dict[str, object]:
    failed = report.failed
    return {
        "type": "about:blank",
        "title": "Not ready",
        "status": 503,
        "detail": "; ".join(f"{result.name}: {result.detail}" for result in failed),
        "where": "; ".join(result.where or result.name for result in failed),
        "fix": "; ".join(result.fix or "see the gateway's log" for result in failed),
        "ready": False,
    }


def _check(result: CheckResult) -> Check:
    return Check(
        name=result.name, ok=result.ok, detail=result.detail, where=result.where, fix=result.fix
    )


def install(app: FastAPI, watched: Observability) -> None:
    """Serve the three routes from `app`, reporting `watched`."""
    app.state.observability = watched
    app.include_router(router)


def observability_app(watched: Observability) -> FastAPI:
    """An app with only these routes: what the long-running gateway serves on `--http`."""
    app = FastAPI(title="tracegate operations", docs_url=None, redoc_url=None, openapi_url=None)
    install(app, watched)
    return app
