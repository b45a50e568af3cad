"""Log in, log out, and the language switch."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ebr.users import UserError
from gateway.api.login_limit import LoginRateLimitedError, client_address
from gateway.hmi.access import CSRF_FIELD, check_csrf, language_of, sessions_of
from gateway.hmi.context import hmi_context
from gateway.hmi.errors import HmiError
from gateway.hmi.forms import field, read_form
from gateway.hmi.i18n import supported
from gateway.hmi.rendering import render
from gateway.hmi.sessions import COOKIE, LANGUAGE_COOKIE, LOGIN_COOKIE, HmiSession
from gateway.hmi.texts import (
    BADGE_REFUSED_FIX,
    MISSING_BADGE,
    MISSING_BADGE_FIX,
    MISSING_CREDENTIALS,
)

router = APIRouter()
YEAR_S = 365 * 24 * 3600


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/line", status_code=303)


@router.get("/login")
def login_page(request: Request, expired: int = 0) -> Response:
    return _login_form(request, notice="expired" if expired else None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    check_csrf(request, form, request.cookies.get(LOGIN_COOKIE, ""))
    username, password = field(form, "username").strip(), field(form, "password")
    if not username or not password:
        return _login_form(request, error=MISSING_CREDENTIALS, status=400)
    return _opened(
        request,
        lambda language: sessions_of(request).log_in(
            username, password, source=client_address(request), language=language
        ),
    )


@router.post("/login/badge")
async def login_badge(request: Request) -> Response:
    """An operator's badge (a keyboard-wedge scan into the focused field) and PIN."""
    form = await read_form(request)
    check_csrf(request, form, request.cookies.get(LOGIN_COOKIE, ""))
    badge, pin = field(form, "badge").strip(), field(form, "pin")
    if not badge or not pin:
        return _login_form(
            request, error=MISSING_BADGE, fix=MISSING_BADGE_FIX, status=400, badge=True
        )
    return _opened(
        request,
        lambda language: sessions_of(request).log_in_badge(
            badge, pin, source=client_address(request), language=language
        ),
        badge=True,
    )


def _opened(
    request: Request, log_in: Callable[[str], HmiSession], *, badge: bool = False
) -> Response:
    """The line view with the new session's cookie, or the log-in form with why not."""
    try:
        session = log_in(language_of(request))
    except LoginRateLimitedError as error:
        return _login_form(request, error=error.detail, fix=error.fix, status=429, badge=badge)
    except UserError as error:
        fix = error.hint or (BADGE_REFUSED_FIX if badge else "")
        return _login_form(request, error=error.message, fix=fix, status=401, badge=badge)
    response = RedirectResponse("/line", status_code=303)
    _cookie(request, response, COOKIE, session.cookie, max_age=None)
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    sessions = sessions_of(request)
    cookie = request.cookies.get(COOKIE)
    try:
        session = sessions.current(cookie, renew=False)
    except UserError:
        return RedirectResponse("/login", status_code=303)
    check_csrf(request, await read_form(request), session.csrf_token)
    sessions.end(cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.post("/language")
async def switch_language(request: Request) -> Response:
    """The user's language: remembered in the session and in a cookie for the next log-in."""
    form = await read_form(request)
    sessions = sessions_of(request)
    cookie = request.cookies.get(COOKIE)
    try:
        expected = sessions.current(cookie, renew=False).csrf_token
    except UserError:
        expected = request.cookies.get(LOGIN_COOKIE, "")
    check_csrf(request, form, expected)
    language = supported(field(form, "language"))
    if language is None:
        raise HmiError(
            400,
            f"unknown language {field(form, 'language')!r}",
            where="form field language",
            fix="choose 中文 or English",
        )
    if cookie:
        sessions.set_language(cookie, language)
    target = field(form, "next")
    if not target.startswith("/") or target.startswith("//"):
        target = "/line"
    response = RedirectResponse(target, status_code=303)
    _cookie(request, response, LANGUAGE_COOKIE, language, max_age=YEAR_S, http_only=False)
    return response


def _login_form(
    request: Request,
    *,
    error: str | None = None,
    fix: str | None = None,
    notice: str | None = None,
    status: int = 200,
    badge: bool = False,
) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        language_of(request),
        status=status,
        csrf_token=token,
        csrf_field=CSRF_FIELD,
        line_name=hmi_context(request).line_name,
        error=error,
        fix=fix,
        notice=notice,
        badge_first=badge,
    )
    if not hmac.compare_digest(token, request.cookies.get(LOGIN_COOKIE, "")):
        _cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


def _cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int | None,
    http_only: bool = True,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=http_only,
        samesite="strict",
        secure=hmi_context(request).settings.secure_cookies,
        path="/",
    )
