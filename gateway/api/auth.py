"""Who is calling: HTTP basic credentials or a bearer token, checked against the site's users.

A bearer token comes from `POST /api/sessions` (user name and password) and lives as long as
the user's session (`ebr.users`: it ends after the inactivity timeout or `DELETE
/api/sessions/current`). Basic credentials log the user in for the one request and out after
it; both are in the audit trail. There are no cookies: a browser never sends these headers on
its own, so a cross-site request cannot borrow a user's identity and no CSRF token is needed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi import Depends, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from ebr.errors import StoreError
from ebr.users import AccountLockedError, AuthenticationError, Session, UserError, Users
from gateway.api.login_limit import LoginLimiter, client_address
from gateway.api.problems import ApiProblemError, from_store_error

BASIC = HTTPBasic(auto_error=False, description="a user's name and password")
BEARER = HTTPBearer(auto_error=False, description="a token from POST /api/sessions")
HOW = "send HTTP basic credentials, or a bearer token from POST /api/sessions"


@dataclass
class Authenticator:
    users: Users
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    _tokens: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def login(self, username: str, password: str, *, source: str) -> Session:
        """Log in from the address `source`, unless it or the user name is rate limited."""
        self.limiter.check(source, username)
        try:
            session = self.users.login(username, password)
        except (AuthenticationError, AccountLockedError):
            self.limiter.failed(source, username)
            raise
        self.limiter.succeeded(username)
        return session

    def open_session(self, username: str, password: str, *, source: str) -> Session:
        session = self.login(username, password, source=source)
        with self._lock:
            self._tokens[session.token] = session
        return session

    def session_for(self, token: str) -> Session:
        with self._lock:
            session = self._tokens.get(token)
        if session is None:
            raise ApiProblemError(
                401,
                "Not authenticated",
                "the bearer token is unknown or its session ended",
                where="Authorization header",
                fix=f"log in again: {HOW}",
            )
        try:
            return self.users.touch(session)
        except UserError as error:
            with self._lock:
                self._tokens.pop(token, None)
            raise from_store_error(error, where="Authorization header") from None

    def close_session(self, token: str) -> None:
        with self._lock:
            session = self._tokens.pop(token, None)
        if session is not None:
            self.users.logout(session)


def authenticator(request: Request) -> Authenticator:
    found: Authenticator = request.app.state.authenticator
    return found


def current_user(
    request: Request,
    basic: HTTPBasicCredentials | None = Depends(BASIC),  # noqa: B008
    bearer: HTTPAuthorizationCredentials | None = Depends(BEARER),  # noqa: B008
) -> Iterator[Session]:
    """The session of the caller; a basic-credentials session ends with the request."""
    auth = authenticator(request)
    if bearer is not None:
        yield auth.session_for(bearer.credentials)
        return
    if basic is None:
        raise ApiProblemError(
            401,
            "Not authenticated",
            "this request needs a logged-in user",
            where="Authorization header",
            fix=HOW,
        )
    try:
        session = auth.login(basic.username, basic.password, source=client_address(request))
    except StoreError as error:
        raise from_store_error(error, where="Authorization header") from None
    try:
        yield session
    finally:
        auth.users.logout(session)
