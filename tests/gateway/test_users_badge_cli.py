"""`tracegate users set-badge`: an administrator gives an operator a badge and PIN, which then
log the operator in; the change is audited without the PIN; a wrong administrator password,
another role, a badge already taken and a weak PIN are refused with a fix and change nothing."""

from __future__ import annotations

import io
import sys

import pytest
from sqlalchemy import Engine

from ebr.audit.trail import AuditTrail
from ebr.users import Role, Users
from gateway.cli import main
from tests.ebr.audit.audit_fixtures import FAST_HASHER

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
ADMIN_PW = "Admin-Passw0rd-2026"
INITIAL = "Initial-Passw0rd-9"
OWN = "Own-Passw0rd-2026x"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _site(engine: Engine) -> Users:
    users = Users(AuditTrail(engine), hasher=FAST_HASHER)
    users.bootstrap_administrator("root", "Ro Ot", ADMIN_PW)
    admin = users.login("root", ADMIN_PW)
    for name, role in (("op.chen", Role.OPERATOR), ("qa.li", Role.QA), ("op.wu", Role.OPERATOR)):
        users.create(admin, username=name, full_name=name, role=role, password=INITIAL)
        users.change_password(name, INITIAL, OWN)
    users.logout(admin)
    return users


def _set_badge(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, username: str, badge: str, secrets: str
) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(secrets))
    return main(
        [
            "users",
            "set-badge",
            "--db",
            _url(engine),
            "--username",
            username,
            "--badge",
            badge,
            "--admin",
            "root",
            "--reason",
            "new badge issued",
            "--secrets-stdin",
        ]
    )


def test_an_administrator_sets_a_badge_and_pin(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    users = _site(engine)
    assert _set_badge(engine, monkeypatch, "op.chen", "B-0001", f"{ADMIN_PW}\n271828\n") == 0
    assert "badge and PIN set for op.chen" in capsys.readouterr().out
    session = users.login_badge("B-0001", "271828")
    assert session.username == "op.chen"
    assert session.via_badge
    [entry] = AuditTrail(engine).entries(event="badge_set")
    assert entry.username == "root"
    assert entry.reason == "new badge issued"
    assert entry.new == {"badge": "B-0001", "pin": "set"}
    assert "271828" not in str(entry.new) + str(entry.old)
    assert _set_badge(engine, monkeypatch, "op.chen", "B-0002", f"{ADMIN_PW}\n314159\n") == 0
    replaced = AuditTrail(engine).entries(event="badge_set")[-1]
    assert replaced.old == {"badge": "B-0001"}
    assert users.login_badge("B-0002", "314159").username == "op.chen"


@pytest.mark.parametrize(
    ("username", "badge", "secrets", "message", "fix"),
    [
        ("op.chen", "B-1", "Wrong-Passw0rd-1\n271828\n", "wrong user name or password", ""),
        ("qa.li", "B-1", f"{ADMIN_PW}\n271828\n", "badge log-in is for operators", "password"),
        ("op.wu", "B-TAKEN", f"{ADMIN_PW}\n271828\n", "belongs to op.chen", "another badge"),
        ("op.chen", "B-1", f"{ADMIN_PW}\n1111\n", "PIN does not meet the policy", "6 digits"),
        ("nobody", "B-1", f"{ADMIN_PW}\n271828\n", "no user 'nobody'", "users list"),
        ("op.chen", "B-1", f"{ADMIN_PW}\n", "no PIN given", "second line"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    username: str,
    badge: str,
    secrets: str,
    message: str,
    fix: str,
) -> None:
    users = _site(engine)
    if badge == "B-TAKEN":
        assert _set_badge(engine, monkeypatch, "op.chen", badge, f"{ADMIN_PW}\n123456\n") == 0
    before = len(AuditTrail(engine).entries(event="badge_set"))
    capsys.readouterr()
    assert _set_badge(engine, monkeypatch, username, badge, secrets) == 1
    err = capsys.readouterr().err
    assert "error: " in err
    assert message in err, err
    assert fix in err
    assert len(AuditTrail(engine).entries(event="badge_set")) == before
    if badge == "B-TAKEN":
        assert users.login_badge(badge, "123456").username == "op.chen"
