"""Who may do what on the HMI: a live session for every page, and for every state-changing
request also the session's CSRF token and a role allowed to do it."""

from __future__ import annotations

import hmac
from typing import Final

from fastapi import Request

from ebr.users import BUSINESS_ROLES, Role, SessionExpiredError
from gateway.hmi.errors import HmiError, LoginRequiredError
from gateway.hmi.forms import field, read_form
from gateway.hmi.i18n import negotiate, supported
from gateway.hmi.sessions import COOKIE, LANGUAGE_COOKIE, HmiSession, HmiSessions

OPERATE: Final = frozenset({Role.OPERATOR, Role.SUPERVISOR})
"""May run the line: clearance, challenge, start, hold, resume, stop, acknowledge alarms."""
VIEW: Final = BUSINESS_ROLES
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"


def sessions_of(request: Request) -> HmiSessions:
    found: HmiSessions = request.app.state.hmi_sessions
    return found


def language_of(request: Request, session: HmiSession | None = None) -> str:
    """The session's language, else the language cookie, else the browser's."""
    if session is not None:
        return session.language
    chosen = supported(request.cookies.get(LANGUAGE_COOKIE))
    return chosen or negotiate(request.headers.get("accept-language"))


def viewer(request: Request, *, renew: bool = True) -> HmiSession:
    try:
        session = sessions_of(request).current(request.cookies.get(COOKIE), renew=renew)
    except SessionExpiredError as error:
        raise LoginRequiredError(error.message, where=request.url.path) from None
    if session.user.role not in VIEW:
        raise HmiError(
            403,
            f"the role {session.user.role.value} has no access to the line",
            where=request.url.path,
            fix="log in as an operator, supervisor, QA person or engineer",
        )
    return session


async def actor_for(
    request: Request, roles: frozenset[Role] = OPERATE
) -> tuple[HmiSession, dict[str, list[str]]]:
    """The session behind a state-changing request and its form, once the session is live,
    the CSRF token matches and the user's role may do it."""
    try:
        session = sessions_of(request).current(request.cookies.get(COOKIE))
    except SessionExpiredError as error:
        raise LoginRequiredError(error.message, where=request.url.path) from None
    form = await read_form(request)
    check_csrf(request, form, session.csrf_token)
    if session.user.role not in roles:
        allowed = ", ".join(sorted(role.value for role in roles))
        raise HmiError(
            403,
            f"{session.user.username} ({session.user.role.value}) may not do this",
            where=request.url.path,
            fix=f"ask someone with the role {allowed}",
        )
    return session, form


def check_csrf(request: Request, form: dict[str, list[str]], expected: str) -> None:
    given = field(form, CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HmiError(
            403,
            "the request carries no valid CSRF token" if given else "the request has no CSRF token",
            where=f"form field {CSRF_FIELD} or header {CSRF_HEADER}",
            fix="reload the page and submit the form again",
        )
