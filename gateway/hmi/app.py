"""`create_hmi_app(...)`: the operator's HMI as a FastAPI app of its own (HTML pages, not the
API's problem documents), with its static files and error pages."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ebr.users import Users
from gateway.api.login_limit import LoginLimiter
from gateway.hmi.access import language_of
from gateway.hmi.console import LineConsole
from gateway.hmi.context import HmiContext
from gateway.hmi.errors import HmiError, LoginRequiredError
from gateway.hmi.forms import FormTooLargeError
from gateway.hmi.line_routes import router as line_router
from gateway.hmi.login_routes import router as login_router
from gateway.hmi.operator_routes import router as operator_router
from gateway.hmi.rendering import render
from gateway.hmi.sessions import HmiSessions
from gateway.hmi.settings import HmiSettings
from gateway.hmi.unit_image_routes import router as unit_image_router


def create_hmi_app(
    users: Users,
    console: LineConsole,
    *,
    line_name: str,
    settings: HmiSettings | None = None,
    limiter: LoginLimiter | None = None,
    sessions: HmiSessions | None = None,
) -> FastAPI:
    """The HMI over the site's `users` and the line's `console`. `sessions` defaults to one
    with the settings' inactivity timeout (a test may pass one with its own clock)."""
    settings = settings or HmiSettings()
    app = FastAPI(title="tracegate HMI", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hmi = HmiContext(console, settings, line_name)
    app.state.hmi_sessions = sessions or HmiSessions(
        users, idle_timeout_s=settings.idle_timeout_s, limiter=limiter
    )
    static = resources.files("gateway.hmi").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for router in (login_router, line_router, operator_router, unit_image_router):
        app.include_router(router)
    app.add_exception_handler(HmiError, _hmi_error)
    app.add_exception_handler(FormTooLargeError, _too_large)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


async def _hmi_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HmiError)
    if isinstance(error, LoginRequiredError):
        if request.method == "GET" and not request.url.path.endswith("/stream"):
            return RedirectResponse("/login?expired=1", status_code=303)
        if request.url.path.endswith("/stream"):
            return PlainTextResponse(error.what, status_code=401)
    return render(
        request,
        "error.html",
        language_of(request),
        status=error.status,
        error=error,
        csrf_token="",
        line_name=request.app.state.hmi.line_name,
    )


async def _too_large(request: Request, error: Exception) -> Response:
    return await _hmi_error(
        request, HmiError(413, str(error), where="request body", fix="send a smaller form")
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    return await _hmi_error(
        request,
        HmiError(
            error.status_code,
            str(error.detail),
            where=request.url.path,
            fix="go back to the line view",
        ),
    )
