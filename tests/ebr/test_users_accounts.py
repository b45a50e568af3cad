"""Users and roles (R-USR-1, Part 11 11.10(d, g), 11.300) on SQLite and PostgreSQL: lockout,
password policy and ageing, ids never reused, roles kept apart, sessions time out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ebr.audit.bundle import verify_database
from ebr.users import (
    AccountLockedError,
    AuthenticationError,
    PasswordChangeRequiredError,
    PasswordPolicyError,
    PermissionDeniedError,
    Role,
    Session,
    SessionExpiredError,
    UserError,
)
from tests.ebr.audit.audit_fixtures import behind_the_triggers
from tests.ebr.audit.audit_users import ADMIN_PW, INITIAL, OWN, Site


@pytest.fixture
def site(engine: Engine) -> Site:
    return Site(engine)


def test_passwords_are_argon2id_hashes(site: Site, engine: Engine) -> None:
    site.add("olga")
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT password_hash FROM users WHERE username = 'olga'")
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert OWN not in stored


def test_lockout_after_n_failures_is_audited_and_alarmed(site: Site) -> None:
    user_id = site.add("olga")
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            site.users.login("olga", "wrong-password-1")
    with pytest.raises(AccountLockedError, match="now locked after 3 failed attempts"):
        site.users.login("olga", "wrong-password-1")
    with pytest.raises(AccountLockedError):
        site.users.login("olga", OWN)
    assert site.users.get(user_id).locked
    assert site.events("login_failed") == [str(user_id)] * 3
    assert site.events("account_locked") == [str(user_id)]
    assert site.alarms == [
        ("account_locked", {"user_id": user_id, "username": "olga", "attempts": 3})
    ]
    site.users.unlock(site.admin, user_id, reason="identity checked by phone")
    assert site.users.login("olga", OWN).username == "olga"
    assert verify_database(site.trail.engine).ok


def test_a_success_resets_the_failure_count(site: Site) -> None:
    site.add("olga")
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            site.users.login("olga", "wrong-password-1")
    site.users.login("olga", OWN)
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            site.users.login("olga", "wrong-password-1")
    assert site.users.login("olga", OWN)


@pytest.mark.parametrize(
    ("password", "hint"),
    [
        ("Short-1", "at least 12 characters"),
        ("no-digits-at-all-here", "letters and digits"),
        ("olga-1234567890", "not containing the user name"),
    ],
)
def test_password_policy(site: Site, password: str, hint: str) -> None:
    with pytest.raises(PasswordPolicyError) as caught:
        site.users.create(
            site.admin, username="olga", full_name="Olga", role=Role.QA, password=password
        )
    assert hint in (caught.value.hint or "")


def test_a_new_or_reset_account_must_change_its_password(site: Site) -> None:
    user_id = site.users.create(
        site.admin, username="olga", full_name="Olga", role=Role.QA, password=INITIAL
    )
    with pytest.raises(PasswordChangeRequiredError, match="set by an administrator"):
        site.users.login("olga", INITIAL)
    with pytest.raises(PasswordPolicyError, match="the old one"):
        site.users.change_password("olga", INITIAL, INITIAL)
    site.users.change_password("olga", INITIAL, OWN)
    site.users.login("olga", OWN)
    site.users.reset_password(site.admin, user_id, "Temporary-Passw0rd-3", reason="forgotten")
    with pytest.raises(PasswordChangeRequiredError):
        site.users.login("olga", "Temporary-Passw0rd-3")


def test_passwords_age(site: Site) -> None:
    site.add("olga")
    site.clock.advance(timedelta(days=91))
    with pytest.raises(PasswordChangeRequiredError, match="expired"):
        site.users.login("olga", OWN)
    site.users.change_password("olga", OWN, "Fresh-Passw0rd-22")
    site.users.login("olga", "Fresh-Passw0rd-22")


def test_user_ids_and_names_are_never_reused(site: Site, engine: Engine) -> None:
    first = site.add("olga")
    second = site.add("pete")
    site.users.deactivate(site.admin, second, reason="left the company")
    with pytest.raises(AuthenticationError, match="deactivated"):
        site.users.login("pete", OWN)
    with pytest.raises(UserError, match="never reused"):
        site.add("pete")
    with pytest.raises(DBAPIError, match="refused"), engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": second})
    with behind_the_triggers(engine) as conn:
        conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": second})
    third = site.add("quinn")
    assert first < second < third, "even a deleted top id is not handed out again"


def test_usernames_are_unique_in_the_database(site: Site, engine: Engine) -> None:
    site.add("olga")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, full_name, role, password_hash, failed_attempts, "
                "locked, active, must_change_password, password_changed_at, created_at) VALUES "
                "('olga', 'x', 'qa', 'x', 0, false, true, true, '2026-01-01', '2026-01-01')"
            )
        )


def test_only_administrators_manage_accounts(site: Site) -> None:
    site.add("sam", Role.SUPERVISOR)
    supervisor = site.users.login("sam", OWN)
    with pytest.raises(PermissionDeniedError, match="may not manage accounts"):
        site.users.create(supervisor, username="x1", full_name="X", role=Role.QA, password=INITIAL)
    with pytest.raises(PermissionDeniedError):
        site.users.reset_password(supervisor, 1, INITIAL, reason="x")
    with pytest.raises(PermissionDeniedError, match="already has accounts"):
        site.users.bootstrap_administrator("root2", "Root", ADMIN_PW)


def test_operators_log_in_with_badge_and_pin(site: Site) -> None:
    site.add("olga", badge="B-0042", pin="482913")
    session = site.users.login_badge("B-0042", "482913")
    assert session.via_badge
    assert session.role is Role.OPERATOR
    with pytest.raises(AuthenticationError):
        site.users.login_badge("B-0042", "000001")
    with pytest.raises(UserError, match="badge log-in is for operators"):
        site.add("quinn", Role.QA, badge="B-0043", pin="482913")
    with pytest.raises(PasswordPolicyError, match="PIN"):
        site.add("rick", badge="B-0044", pin="1111")


def test_sessions_end_after_inactivity(site: Site) -> None:
    site.add("olga")
    session: Session = site.users.login("olga", OWN)
    site.clock.advance(timedelta(minutes=14))
    session = site.users.touch(session)
    site.clock.advance(timedelta(minutes=14))
    session = site.users.touch(session)
    site.clock.advance(timedelta(minutes=16))
    with pytest.raises(SessionExpiredError, match="timed out"):
        site.users.touch(session)
    with pytest.raises(SessionExpiredError):
        site.users.touch(session)
    assert site.events("session_timed_out")
