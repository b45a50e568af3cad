"""What the HMI answers when a request cannot be done: what went wrong, where, how to fix it."""

from __future__ import annotations


class HmiError(Exception):
    """Answered as an error page with this status (the page's text is translated)."""

    def __init__(self, status: int, what: str, *, where: str, fix: str) -> None:
        super().__init__(what)
        self.status = status
        self.what = what
        self.where = where
        self.fix = fix


class LoginRequiredError(HmiError):
    """No live session: a page redirects to the log-in, anything else answers 401."""

    def __init__(self, what: str, *, where: str) -> None:
        super().__init__(401, what, where=where, fix="log in again")
