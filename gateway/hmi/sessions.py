"""Browser sessions of the HMI: a cookie naming a logged-in user of the site's store, with the
session's CSRF token, its language and its inactivity timeout.

The session itself lives in `ebr.users` (log-in, audit, the store's own timeout); this keeps
what a browser needs beside it. A request (not the live stream) renews it; past
`idle_timeout_s` without one it ends and the user is logged out.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from ebr.users import Session, SessionExpiredError, Users
from gateway.api.login_limit import LoginLimiter

COOKIE: Final = "tg_hmi"
LANGUAGE_COOKIE: Final = "tg_lang"
LOGIN_COOKIE: Final = "tg_login"
"""Holds the log-in form's CSRF token before there is a session (double-submit)."""


@dataclass(frozen=True, slots=True)
class HmiSession:
    cookie: str
    user: Session
    csrf_token: str
    language: str
    last_seen: float


class HmiSessions:
    def __init__(
        self,
        users: Users,
        *,
        idle_timeout_s: float,
        limiter: LoginLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = users
        self.idle_timeout_s = idle_timeout_s
        self.limiter = limiter or LoginLimiter()
        self._clock = clock
        self._sessions: dict[str, HmiSession] = {}
        self._lock = threading.Lock()

    def log_in(self, username: str, password: str, *, source: str, language: str) -> HmiSession:
        """Log in (rate limited per address and user name, as the API's log-in)."""
        return self._open(username, lambda: self.users.login(username, password), source, language)

    def log_in_badge(self, badge: str, pin: str, *, source: str, language: str) -> HmiSession:
        """An operator's badge + PIN, rate limited per address and badge; the store counts a
        wrong PIN against the account and locks it as it does wrong passwords."""
        return self._open(
            f"badge:{badge}", lambda: self.users.login_badge(badge, pin), source, language
        )

    def _open(
        self, who: str, log_in: Callable[[], Session], source: str, language: str
    ) -> HmiSession:
        self.limiter.check(source, who)
        try:
            user = log_in()
        except Exception:
            self.limiter.failed(source, who)
            raise
        self.limiter.succeeded(who)
        session = HmiSession(
            secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), language, self._clock()
        )
        with self._lock:
            self._sessions[session.cookie] = session
        return session

    def current(self, cookie: str | None, *, renew: bool = True) -> HmiSession:
        """The live session of `cookie`, renewed unless `renew` is False (the live stream);
        SessionExpiredError when there is none or it timed out."""
        with self._lock:
            session = self._sessions.get(cookie or "")
        if session is None:
            raise SessionExpiredError("not logged in, or the session has ended", hint="log in")
        now = self._clock()
        if now - session.last_seen > self.idle_timeout_s:
            self.end(session.cookie)
            raise SessionExpiredError(
                f"the session of {session.user.username} ended after "
                f"{self.idle_timeout_s / 60:g} min without activity",
                hint="log in again",
            )
        if not renew:
            return session
        try:
            user = self.users.touch(session.user)
        except SessionExpiredError:
            with self._lock:
                self._sessions.pop(session.cookie, None)
            raise
        renewed = replace(session, user=user, last_seen=now)
        with self._lock:
            self._sessions[session.cookie] = renewed
        return renewed

    def set_language(self, cookie: str, language: str) -> None:
        with self._lock:
            session = self._sessions.get(cookie)
            if session is not None:
                self._sessions[cookie] = replace(session, language=language)

    def end(self, cookie: str | None) -> None:
        with self._lock:
            session = self._sessions.pop(cookie or "", None)
        if session is not None:
            self.users.logout(session.user)
