"""Every state-changing request of the HMI needs a live session, its CSRF token and a role
allowed to do it; an idle session ends; a signature refuses a wrong password and the account
locks after the policy's number of failures."""

from __future__ import annotations

import pytest

from tests.ebr.audit.audit_users import OWN
from tests.gateway.hmi.hmi_fixtures import IDLE_S, Hmi, hmi

__all__ = ["hmi"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CONTROLS = ["/line/start", "/line/hold", "/line/resume", "/line/stop", "/challenge"]


async def test_log_in_without_the_forms_csrf_token_is_refused(hmi: Hmi) -> None:
    await hmi.http.get("/login")
    refused = await hmi.http.post("/login", data={"username": "op.li", "password": OWN})
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert "reload the page" in refused.text
    assert (await hmi.http.get("/line")).status_code == 303, "no session was opened"


@pytest.mark.parametrize("path", [*CONTROLS, "/clearance", "/alarms/ack", "/logout"])
async def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(hmi: Hmi, path: str) -> None:
    token = await hmi.log_in("op.li")
    missing = await hmi.http.post(path, data={"password": OWN})
    assert missing.status_code == 403, missing.text
    assert "no CSRF token" in missing.text
    wrong = await hmi.http.post(path, data={"csrf_token": token[:-2] + "xx"})
    assert wrong.status_code == 403
    assert "no valid CSRF token" in wrong.text
    assert (await hmi.http.get("/line")).status_code == 200, "the session is still there"


@pytest.mark.parametrize("path", [*CONTROLS, "/clearance", "/alarms/ack"])
async def test_a_role_that_may_not_run_the_line_is_refused(hmi: Hmi, path: str) -> None:
    token = await hmi.log_in("qa.wang")
    refused = await hmi.http.post(path, data={"csrf_token": token, "password": OWN})
    assert refused.status_code == 403, refused.text
    assert "qa.wang (qa) may not do this" in refused.text
    assert "operator, supervisor" in refused.text


async def test_an_operator_passes_the_checks_and_meets_the_line(hmi: Hmi) -> None:
    token = await hmi.log_in("op.li")
    answer = await hmi.http.post("/line/hold", data={"csrf_token": token})
    assert answer.status_code == 409
    assert "no batch is on the line" in answer.text


async def test_an_idle_session_ends(hmi: Hmi) -> None:
    token = await hmi.log_in("op.li")
    hmi.clock.now += IDLE_S - 1
    assert (await hmi.http.get("/line")).status_code == 200, "a request renews the session"
    hmi.clock.now += IDLE_S + 1
    page = await hmi.http.get("/line")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?expired=1"
    action = await hmi.http.post("/line/hold", data={"csrf_token": token})
    assert action.status_code == 401
    assert (await hmi.http.get("/line/stream")).status_code == 401
    assert hmi.site.events("logout"), "the ended session is logged out in the audit trail"


async def test_the_stream_does_not_keep_a_session_alive(hmi: Hmi) -> None:
    await hmi.log_in("op.li")
    hmi.clock.now += IDLE_S + 1
    assert (await hmi.http.get("/line/stream")).status_code == 401


async def test_a_wrong_signature_password_is_refused_and_the_account_locks(hmi: Hmi) -> None:
    token = await hmi.log_in("op.li")
    max_failures = hmi.site.users.policy.max_failures
    for attempt in range(1, max_failures):
        wrong = await hmi.http.post(
            "/clearance", data={"csrf_token": token, "password": f"wrong-{attempt}"}
        )
        assert wrong.status_code == 403, wrong.text
        assert "signature refused" in wrong.text
        assert "locks after repeated failures" in wrong.text
    locking = await hmi.http.post("/clearance", data={"csrf_token": token, "password": "wrong"})
    assert locking.status_code == 423
    assert "locked" in locking.text
    right = await hmi.http.post("/clearance", data={"csrf_token": token, "password": OWN})
    assert right.status_code == 423, "a locked account signs nothing, not even with its password"
    assert "an administrator must unlock it" in right.text
    assert hmi.site.events("account_locked")
    assert [kind for kind, _ in hmi.site.alarms] == ["account_locked"]
