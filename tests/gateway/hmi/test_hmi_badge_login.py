"""Badge + PIN log-in on the HMI: an operator's badge (as a keyboard-wedge scanner types it)
and PIN open a session like a password does; a wrong PIN is refused, counted and locks the
account like a wrong password; an unknown badge is refused with what to do; no CSRF token, no
log-in; every attempt is in the audit trail."""

from __future__ import annotations

import pytest

from ebr.users import Role
from tests.gateway.hmi.hmi_fixtures import Hmi, hmi, token_of

__all__ = ["hmi"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
BADGE = "04A1B2C3D4"
PIN = "482915"


async def _badge_log_in(hmi: Hmi, badge: str, pin: str) -> tuple[int, str]:
    page = await hmi.http.get("/login")
    response = await hmi.http.post(
        "/login/badge", data={"csrf_token": token_of(page), "badge": badge, "pin": pin}
    )
    return response.status_code, response.text


async def _has_session(hmi: Hmi) -> bool:
    line = await hmi.http.get("/line")
    if line.status_code == 303:
        assert line.headers["location"].startswith("/login")
        return False
    assert line.status_code == 200
    return True


def _operator_with_badge(hmi: Hmi) -> int:
    return hmi.site.add("op.badge", Role.OPERATOR, badge=BADGE, pin=PIN)


async def test_the_login_page_offers_badge_and_pin(hmi: Hmi) -> None:
    page = await hmi.http.get("/login", headers={"Accept-Language": "en"})
    assert '<form method="post" action="/login/badge"' in page.text
    assert '<label for="badge">Badge (scan it)</label>' in page.text
    assert '<label for="pin">PIN</label>' in page.text
    assert '<script src="/static/login.js" defer></script>' in page.text
    chinese = await hmi.http.get("/login", headers={"Accept-Language": "zh-CN"})
    assert "工牌登录" in chinese.text


async def test_badge_and_pin_open_a_session(hmi: Hmi) -> None:
    user_id = _operator_with_badge(hmi)
    status, _ = await _badge_log_in(hmi, BADGE, PIN)
    assert status == 303
    assert await _has_session(hmi)
    assert "Op.Badge" in (await hmi.http.get("/line")).text
    logins = [e for e in hmi.site.trail.entries(event="login") if e.object_id == str(user_id)]
    assert logins
    assert logins[-1].new == {"via": "badge"}


async def test_a_wrong_pin_is_refused_and_locks_like_a_password(hmi: Hmi) -> None:
    user_id = _operator_with_badge(hmi)
    max_failures = hmi.site.users.policy.max_failures
    for attempt in range(1, max_failures):
        status, text = await _badge_log_in(hmi, BADGE, "999999")
        assert status == 401, attempt
        assert "wrong user name or password" in text
        assert "the account locks after repeated wrong PINs" in text
    status, text = await _badge_log_in(hmi, BADGE, "999999")
    assert status == 401
    assert "is now locked after" in text
    assert "an administrator must unlock it" in text
    assert hmi.site.users.get(user_id).locked
    status, text = await _badge_log_in(hmi, BADGE, PIN)
    assert status == 401, "the right PIN does not open a locked account"
    assert "is locked" in text
    assert not await _has_session(hmi)
    assert hmi.site.events("account_locked") == [str(user_id)]
    assert hmi.site.alarms[-1][0] == "account_locked"
    assert hmi.site.alarms[-1][1]["username"] == "op.badge"


async def test_an_unknown_badge_is_refused_with_what_to_do(hmi: Hmi) -> None:
    _operator_with_badge(hmi)
    status, text = await _badge_log_in(hmi, "NOSUCHBADGE", PIN)
    assert status == 401
    assert "unknown badge or wrong PIN" in text
    assert "ask an administrator whether the badge is registered" in text
    assert hmi.site.events("login_failed")[-1] == "NOSUCHBADGE"
    assert not await _has_session(hmi)


async def test_a_missing_pin_is_asked_for_and_nothing_is_counted(hmi: Hmi) -> None:
    user_id = _operator_with_badge(hmi)
    before = len(hmi.site.events("login_failed"))
    status, text = await _badge_log_in(hmi, BADGE, "")
    assert status == 400
    assert "Scan your badge and enter your PIN." in text
    assert "autofocus" in text, "the badge field takes the next scan"
    assert len(hmi.site.events("login_failed")) == before
    assert not hmi.site.users.get(user_id).locked


async def test_a_badge_log_in_without_the_csrf_token_is_refused(hmi: Hmi) -> None:
    _operator_with_badge(hmi)
    await hmi.http.get("/login")
    refused = await hmi.http.post("/login/badge", data={"badge": BADGE, "pin": PIN})
    assert refused.status_code == 403
    assert "no CSRF token" in refused.text
    forged = await hmi.http.post(
        "/login/badge", data={"csrf_token": "forged", "badge": BADGE, "pin": PIN}
    )
    assert forged.status_code == 403
    assert not [e for e in hmi.site.trail.entries(event="login") if e.new == {"via": "badge"}]
