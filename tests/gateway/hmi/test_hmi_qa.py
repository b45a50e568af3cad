"""QA's review and release in the HMI over a real SQLite store: only QA decides (supervisors
look, operators and engineers are refused), every POST needs its CSRF token, a signature
refuses a wrong password and locks the account, and a release is refused with every reason
until the exceptions are acknowledged and the audit-trail review is signed."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine

from ebr.audit.actor import GATEWAY
from ebr.execution import Step
from ebr.report import verify_record_hash
from ebr.users import Role
from gateway.api.login_limit import LoginLimiter, LoginLimits
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app
from gateway.hmi.qa import install_qa
from tests.ebr.audit.audit_users import OWN
from tests.ebr.execution.execution_fixtures import ExecutionSite
from tests.gateway.hmi.hmi_fixtures import token_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
QA, SUPERVISOR, OPERATOR, ENGINEER = "qa.wang", "sup.zhao", "op.li", "eng.xu"
PAGE_SIZE = 5


@dataclass
class Qa:
    site: ExecutionSite
    http: httpx.AsyncClient

    @property
    def batch(self) -> int:
        return self.site.batch

    async def log_in(self, username: str, password: str = OWN) -> str:
        """Log in through the form; returns the session's CSRF token."""
        page = await self.http.get("/login")
        response = await self.http.post(
            "/login",
            data={"csrf_token": token_of(page), "username": username, "password": password},
        )
        assert response.status_code == 303, response.text
        return token_of(await self.http.get("/line"))

    def pending(self) -> list[int]:
        return [item.id for item in self.site.record.exceptions(self.batch)]


@pytest.fixture
async def qa(engine: Engine) -> AsyncIterator[Qa]:
    site = ExecutionSite(engine)
    for name, role in (
        (QA, Role.QA),
        (SUPERVISOR, Role.SUPERVISOR),
        (OPERATOR, Role.OPERATOR),
        (ENGINEER, Role.ENGINEER),
    ):
        site.add(name, role)
    limiter = LoginLimiter(LoginLimits(window_s=60, per_address=100, per_username=20))
    app = create_hmi_app(
        site.users,
        LineConsole(site.users),
        line_name="Line 1",
        settings=HmiSettings(),
        limiter=limiter,
    )
    install_qa(
        app,
        engine=engine,
        audit=site.trail,
        users=site.users,
        journal=site.journal,
        page_size=PAGE_SIZE,
    )
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hmi") as client:
        yield Qa(site, client)


def reconciled_with_exceptions(site: ExecutionSite) -> None:
    """A batch the line reconciled with a sealing temperature out of its limits (an
    `out_of_limit` exception and a deviation) and a supervisor's minor deviation."""
    site.complete_through(Step.PRODUCTION)
    site.record.record(
        site.batch,
        "parameters",
        "sealing temperature",
        185,
        low=170,
        high=180,
        source="tag",
        by=GATEWAY,
    )
    site.record.open_deviation(
        site.batch,
        "minor",
        "carton jam",
        "cartons jammed twice at the infeed",
        "cleared by the operator",
        by=site.session("sam"),
    )
    site.complete_through(Step.MATERIALS_RECONCILED)
    site.phase("reconciled")


def texts(page: httpx.Response, element_id: str) -> list[str]:
    """The text of each <li> of the list with this id, tags removed."""
    found = re.search(rf'<ul id="{element_id}"[^>]*>(.*?)</ul>', page.text, re.S)
    assert found, page.text
    items = re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", item).strip() for item in items]


def unescape(text: str) -> str:
    return text.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")


@pytest.mark.parametrize("username", [OPERATOR, ENGINEER])
@pytest.mark.parametrize(
    "path", ["/qa", "/qa/batches/{b}", "/qa/audit", "/qa/audit.csv", "/qa/bundle"]
)
async def test_operators_and_engineers_are_refused(qa: Qa, username: str, path: str) -> None:
    await qa.log_in(username)
    refused = await qa.http.get(path.format(b=qa.batch))
    assert refused.status_code == 403, refused.text
    assert f"{username} ({'operator' if username == OPERATOR else 'engineer'})" in refused.text
    assert "log in as QA or as a supervisor" in refused.text


async def test_a_supervisor_sees_the_record_but_decides_nothing(qa: Qa) -> None:
    reconciled_with_exceptions(qa.site)
    token = await qa.log_in(SUPERVISOR)
    page = await qa.http.get(f"/qa/batches/{qa.batch}")
    assert page.status_code == 200
    assert "sealing temperature" in page.text
    assert "/ack" not in page.text, "no acknowledge form for a supervisor"
    assert "Only QA acknowledges exceptions" in page.text
    first = qa.pending()[0]
    for path, data in (
        (f"/qa/batches/{qa.batch}/exceptions/{first}/ack", {"comment": "looks fine"}),
        (f"/qa/batches/{qa.batch}/sign/review", {"password": OWN}),
        (f"/qa/batches/{qa.batch}/sign/release", {"password": OWN}),
        (f"/qa/batches/{qa.batch}/sign/reject", {"password": OWN, "reason": "bad"}),
    ):
        refused = await qa.http.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 403, (path, refused.text)
        assert f"{SUPERVISOR} (supervisor) may not do this" in refused.text
    assert first in qa.pending(), "nothing was acknowledged"
    assert qa.site.status() == "reconciled"


@pytest.mark.parametrize("decision", ["ack", "review", "release", "reject"])
async def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(qa: Qa, decision: str) -> None:
    reconciled_with_exceptions(qa.site)
    token = await qa.log_in(QA)
    first = qa.pending()[0]
    path = (
        f"/qa/batches/{qa.batch}/exceptions/{first}/ack"
        if decision == "ack"
        else f"/qa/batches/{qa.batch}/sign/{decision}"
    )
    form = {"comment": "checked", "password": OWN, "reason": "bad seal"}
    missing = await qa.http.post(path, data=form)
    assert missing.status_code == 403, missing.text
    assert "no CSRF token" in missing.text
    wrong = await qa.http.post(path, data={**form, "csrf_token": token[:-2] + "xx"})
    assert wrong.status_code == 403
    assert "no valid CSRF token" in wrong.text
    assert first in qa.pending()
    assert qa.site.status() == "reconciled"
    assert "the audit-trail review is not signed" in qa.site.record.release_blockers(qa.batch)


async def test_a_wrong_signature_password_is_refused_and_the_account_locks(qa: Qa) -> None:
    reconciled_with_exceptions(qa.site)
    token = await qa.log_in(QA)
    path = f"/qa/batches/{qa.batch}/sign/review"
    dialog = await qa.http.get(path)
    assert 'id="signer">Qa.Wang</strong>' in dialog.text
    assert "Reviewed: QA audit-trail review of this batch record" in dialog.text
    for attempt in range(1, qa.site.users.policy.max_failures):
        wrong = await qa.http.post(path, data={"csrf_token": token, "password": f"x{attempt}"})
        assert wrong.status_code == 403, wrong.text
        assert "signature refused" in wrong.text
    locking = await qa.http.post(path, data={"csrf_token": token, "password": "x"})
    assert locking.status_code == 423
    assert "locked" in locking.text
    right = await qa.http.post(path, data={"csrf_token": token, "password": OWN})
    assert right.status_code == 423, "a locked account signs nothing"
    assert "the audit-trail review is not signed" in qa.site.record.release_blockers(qa.batch)


async def test_release_is_refused_with_every_reason_then_allowed(qa: Qa) -> None:
    reconciled_with_exceptions(qa.site)
    token = await qa.log_in(QA)
    batch = f"/qa/batches/{qa.batch}"

    listed = await qa.http.get("/qa?status=reconciled")
    assert f'href="{batch}"' in listed.text
    page = await qa.http.get(batch)
    pending = qa.pending()
    assert len(pending) >= 2
    assert page.text.index("exceptions-title") < page.text.index("release-title")
    assert "Out of limit" in page.text
    assert "sealing temperature" in page.text
    assert page.text.count("✖ No") == len(pending)

    refused = await qa.http.post(
        f"{batch}/sign/release", data={"csrf_token": token, "password": OWN}
    )
    assert refused.status_code == 409
    reasons = [unescape(reason) for reason in texts(refused, "release-blockers")]
    assert reasons == qa.site.record.release_blockers(qa.batch)
    assert [r for r in reasons if r.startswith("exception ")] == [
        r for r in reasons if any(r.startswith(f"exception {e} (") for e in pending)
    ]
    assert len([r for r in reasons if r.startswith("exception ")]) == len(pending)
    assert reasons[-1] == "the audit-trail review is not signed"
    assert qa.site.status() == "reconciled"

    blank = await qa.http.post(
        f"{batch}/exceptions/{pending[0]}/ack", data={"csrf_token": token, "comment": "  "}
    )
    assert blank.status_code == 400
    assert "needs a comment" in blank.text
    for exception_id in pending:
        done = await qa.http.post(
            f"{batch}/exceptions/{exception_id}/ack",
            data={"csrf_token": token, "comment": f"checked {exception_id} with production"},
        )
        assert done.status_code == 303, done.text
    assert qa.pending() == []
    again = await qa.http.post(
        f"{batch}/exceptions/{pending[0]}/ack", data={"csrf_token": token, "comment": "again"}
    )
    assert again.status_code == 409
    assert "already acknowledged by qa.wang" in unescape(again.text)

    review = await qa.http.post(f"{batch}/sign/review", data={"csrf_token": token, "password": OWN})
    assert review.status_code == 303, review.text
    assert (await qa.http.get(review.headers["location"])).text.count(
        "✔ Nothing blocks release."
    ) == 1
    release = await qa.http.post(
        f"{batch}/sign/release", data={"csrf_token": token, "password": OWN}
    )
    assert release.status_code == 303, release.text
    assert qa.site.status() == "released"
    (decision,) = qa.site.record.entries(qa.batch, "release")
    (signature,) = qa.site.signatures.signatures("ebr_entry", str(decision.id))
    assert (signature.username, signature.printed_name, signature.meaning) == (
        QA,
        "Qa.Wang",
        "released",
    )

    full = await qa.http.get(f"{batch}?full=1")
    assert 'id="full-record"' in full.text
    assert "Qa.Wang (qa.wang)" in full.text
    assert "batch_release" in full.text
    pdf = await qa.http.get(f"{batch}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f"batch-{qa.batch}-en.pdf" in pdf.headers["content-disposition"]
    document = (await qa.http.get(f"{batch}/report.json")).json()
    assert verify_record_hash(document)


async def test_reject_needs_a_reason_and_a_signature(qa: Qa) -> None:
    reconciled_with_exceptions(qa.site)
    token = await qa.log_in(QA)
    path = f"/qa/batches/{qa.batch}/sign/reject"
    dialog = await qa.http.get(path)
    assert 'for="reason"' in dialog.text
    assert "Rejected: QA rejection of this batch" in dialog.text
    no_reason = await qa.http.post(path, data={"csrf_token": token, "password": OWN})
    assert no_reason.status_code == 400
    assert "needs a reason" in no_reason.text
    rejected = await qa.http.post(
        path, data={"csrf_token": token, "password": OWN, "reason": "seal failures at sampling"}
    )
    assert rejected.status_code == 303, rejected.text
    assert qa.site.status() == "rejected"
    (decision,) = qa.site.record.entries(qa.batch, "release")
    assert decision.reason == "seal failures at sampling"


async def test_an_unknown_batch_and_a_bad_filter_say_what_and_how(qa: Qa) -> None:
    await qa.log_in(QA)
    unknown = await qa.http.get("/qa/batches/999999")
    assert unknown.status_code == 404
    assert "there is no batch 999999" in unknown.text
    assert "pick a batch from the list" in unknown.text
    status = await qa.http.get("/qa?status=shipped")
    assert status.status_code == 400
    assert "unknown batch status 'shipped'" in unescape(status.text)
    assert "choose one of: downloaded" in status.text


async def test_the_pages_speak_chinese(qa: Qa) -> None:
    reconciled_with_exceptions(qa.site)
    token = await qa.log_in(QA)
    await qa.http.post("/language", data={"csrf_token": token, "language": "zh_CN"})
    page = await qa.http.get(f"/qa/batches/{qa.batch}")
    assert '<html lang="zh-CN">' in page.text
    assert "超限" in page.text, "the exception kind in Chinese"
    pdf = await qa.http.get(f"/qa/batches/{qa.batch}/report.pdf")
    assert f"batch-{qa.batch}-zh-CN.pdf" in pdf.headers["content-disposition"]
    report = json.loads((await qa.http.get(f"/qa/batches/{qa.batch}/report.json")).text)
    assert verify_record_hash(report)
