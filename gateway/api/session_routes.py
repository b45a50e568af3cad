"""`POST /api/sessions` (log in, get a bearer token) and `DELETE /api/sessions/current`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from ebr.errors import StoreError
from gateway.api.auth import BEARER, HOW, Authenticator, authenticator
from gateway.api.login_limit import client_address
from gateway.api.problems import ApiProblemError, Problem, from_store_error, problem_responses

router = APIRouter(prefix="/api/sessions", tags=["sessions"], responses=problem_responses(401, 422))


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SessionInfo(BaseModel):
    token: str = Field(description="send it as `Authorization: Bearer <token>`")
    username: str
    full_name: str
    role: str
    idle_timeout_s: int = Field(description="the session ends after this long without a request")


@router.post(
    "",
    status_code=201,
    response_model=SessionInfo,
    summary="Log in",
    responses={429: {"model": Problem, "description": "too many failed log-ins: see Retry-After"}},
)
def post_session(
    login: Login, request: Request, auth: Annotated[Authenticator, Depends(authenticator)]
) -> SessionInfo:
    try:
        session = auth.open_session(login.username, login.password, source=client_address(request))
    except StoreError as error:
        raise from_store_error(error, where="body") from None
    return SessionInfo(
        token=session.token,
        username=session.username,
        full_name=session.full_name,
        role=session.role.value,
        idle_timeout_s=int(auth.users.policy.session_timeout.total_seconds()),
    )


@router.delete("/current", status_code=204, summary="Log out: the bearer token ends")
def delete_session(
    auth: Annotated[Authenticator, Depends(authenticator)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Response:
    if bearer is None:
        raise ApiProblemError(
            401,
            "Not authenticated",
            "log-out needs the session's bearer token",
            where="Authorization header",
            fix=HOW,
        )
    auth.session_for(bearer.credentials)
    auth.close_session(bearer.credentials)
    return Response(status_code=204)
