"""Errors as RFC 9457 problem details: what went wrong (`title`, `detail`), where (`where`: the
path or body field, or the resource), and how to fix it (`fix`), as `application/problem+json`.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ebr.errors import NotFoundError, StoreError
from ebr.recall import RecallConflictError
from ebr.users import (
    AccountLockedError,
    AuthenticationError,
    PasswordChangeRequiredError,
    PermissionDeniedError,
    SessionExpiredError,
)

MEDIA_TYPE: Final = "application/problem+json"
CHALLENGE: Final = 'Basic realm="tracegate", Bearer realm="tracegate"'
log = logging.getLogger(__name__)


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    where: str | None = None
    fix: str | None = None
    instance: str | None = None


class ApiProblemError(Exception):
    """Raised by a route: answered as a problem with this status."""

    def __init__(
        self, status: int, title: str, detail: str, *, where: str | None, fix: str | None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.where = where
        self.fix = fix


def from_store_error(error: StoreError, *, where: str | None) -> ApiProblemError:
    """The problem for a domain error: its message and hint, with the status its kind means."""
    status, title = _status_of(error)
    fix = error.hint or DEFAULT_FIXES.get(status, "correct the request and send it again")
    return ApiProblemError(status, title, error.message, where=where, fix=fix)


DEFAULT_FIXES: Final = {
    401: "check the user name and password (the account locks after repeated failures)",
    403: "ask a user whose role allows it",
    404: "check the code or id",
}


def _status_of(error: StoreError) -> tuple[int, str]:
    if isinstance(error, AuthenticationError | AccountLockedError | SessionExpiredError):
        return 401, "Not authenticated"
    if isinstance(error, PasswordChangeRequiredError):
        return 401, "Password change required"
    if isinstance(error, PermissionDeniedError):
        return 403, "Not allowed"
    if isinstance(error, NotFoundError):
        return 404, "Not found"
    if isinstance(error, RecallConflictError):
        return 409, "Conflict with the records' state"
    return 422, "Request cannot be carried out"


DESCRIPTIONS: Final = {
    401: "not authenticated: no, wrong or expired credentials",
    403: "the user's role does not allow it",
    404: "the code or batch is not known to this site",
    409: "the records' state does not allow it now (e.g. the batch is still in production)",
    422: "the request is not valid",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these problem statuses (`problem_media_type` files them under
    application/problem+json)."""
    return {status: {"model": Problem, "description": DESCRIPTIONS[status]} for status in statuses}


def problem_media_type(app: FastAPI) -> None:
    """Declare problems in the OpenAPI schema under the media type they are sent with."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        if int(status) >= 400 and "application/json" in content:
                            content[MEDIA_TYPE] = content.pop("application/json")
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem_response(problem: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": CHALLENGE} if problem.status == 401 else None
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    """Answer every error of the app as a problem, never as a traceback."""

    async def api_problem(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiProblemError)
        return problem_response(
            Problem(
                title=error.title,
                status=error.status,
                detail=error.detail,
                where=error.where,
                fix=error.fix,
                instance=request.url.path,
            )
        )

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = [
            f"{'.'.join(str(part) for part in item.get('loc', ()))}: {item.get('msg', '')}"
            for item in error.errors()
        ]
        first = error.errors()[0] if error.errors() else {}
        return problem_response(
            Problem(
                title="Request is not valid",
                status=422,
                detail="; ".join(problems) or "the request is not valid",
                where=".".join(str(part) for part in first.get("loc", ())) or None,
                fix="correct the fields named and send the request again; the schema is at "
                "/api/openapi.json",
                instance=request.url.path,
            )
        )

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        return problem_response(
            Problem(
                title=str(error.detail),
                status=error.status_code,
                detail=f"{request.method} {request.url.path}: {error.detail}",
                where=request.url.path,
                fix="see /api/docs for the routes and methods this gateway serves",
                instance=request.url.path,
            )
        )

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(
            Problem(
                title="Internal error",
                status=500,
                detail=f"the gateway failed to answer: {type(error).__name__}",
                where=request.url.path,
                fix="each write is one transaction, so nothing was half done; see the "
                "gateway's log and report it",
                instance=request.url.path,
            )
        )

    app.add_exception_handler(ApiProblemError, api_problem)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
