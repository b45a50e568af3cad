"""User accounts, roles, log-in and sessions (R-USR-1; 21 CFR 11.10(d, g), 11.300).

- Administrators manage accounts and hold no GMP rights (they cannot sign); business roles
  (operator, supervisor, QA, engineer) hold no administrative rights.
- Passwords and PINs are stored as argon2id hashes only.
- N failed attempts lock the account; every failure, lock and unlock is in the audit trail, and
  a lock raises an alarm through `on_alarm`.
- Passwords age; a new or reset account must change its password before it can work.
- Accounts are never deleted (a database trigger refuses it) and ids are never reused.
- Operators may log in with badge + PIN; signatures always need the full password.
- Sessions end after a period of inactivity.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, insert, select, update

from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.errors import NotFoundError, StoreError
from ebr.sql import insert_returning_id
from ebr.users_models import UserRow


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    QA = "qa"
    ENGINEER = "engineer"
    ADMINISTRATOR = "administrator"


BUSINESS_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.QA, Role.ENGINEER})


class UserError(StoreError):
    pass


class AuthenticationError(UserError):
    """Wrong user, password, badge or PIN. Deliberately does not say which."""


class AccountLockedError(UserError):
    pass


class PasswordChangeRequiredError(UserError):
    pass


class PasswordPolicyError(UserError):
    pass


class PermissionDeniedError(UserError):
    pass


class SessionExpiredError(UserError):
    pass


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    min_password_length: int = 12
    min_pin_length: int = 6
    max_failures: int = 5
    password_max_age: timedelta = timedelta(days=90)
    session_timeout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    full_name: str
    role: Role
    active: bool
    locked: bool
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user. `signed` records whether a signature was already made in it (11.200:
    the first signature of a session needs user ID and password, later ones the password)."""

    token: str
    user_id: int
    username: str
    full_name: str
    role: Role
    started_at: datetime
    last_active: datetime
    signed: bool = False
    via_badge: bool = False


Alarm = Callable[[str, dict[str, Any]], None]


def _no_alarm(_kind: str, _details: dict[str, Any]) -> None:
    return None


class Users:
    def __init__(
        self,
        trail: AuditTrail,
        *,
        policy: SecurityPolicy | None = None,
        hasher: PasswordHasher | None = None,
        on_alarm: Alarm = _no_alarm,
    ) -> None:
        self._trail = trail
        self._engine: Engine = trail.engine
        self.policy = policy or SecurityPolicy()
        self._hasher = hasher or PasswordHasher()
        self._on_alarm = on_alarm
        self._sessions: dict[str, Session] = {}

    # --- accounts -------------------------------------------------------------------------

    def bootstrap_administrator(self, username: str, full_name: str, password: str) -> int:
        """The first account of a site, allowed only while there is none."""
        with self._engine.begin() as conn:
            if conn.execute(select(UserRow.id).limit(1)).first() is not None:
                raise PermissionDeniedError(
                    "the site already has accounts",
                    hint="an administrator creates further accounts",
                )
            return self._create(conn, None, username, full_name, Role.ADMINISTRATOR, password)

    def create(
        self,
        actor: Session,
        *,
        username: str,
        full_name: str,
        role: Role,
        password: str,
        badge: str | None = None,
        pin: str | None = None,
    ) -> int:
        """A new account, which must change its initial password at first log-in."""
        self._require_admin(actor)
        with self._engine.begin() as conn:
            return self._create(conn, actor, username, full_name, role, password, badge, pin)

    def _create(
        self,
        conn: Connection,
        actor: Session | None,
        username: str,
        full_name: str,
        role: Role,
        password: str,
        badge: str | None = None,
        pin: str | None = None,
    ) -> int:
        role = Role(role)
        if not username or username != username.strip() or len(username) > 64:
            raise UserError(
                f"user name {username!r} is not valid",
                hint="1-64 characters without surrounding spaces",
            )
        taken = conn.execute(select(UserRow.id).where(UserRow.username == username)).first()
        if taken is not None:
            raise UserError(
                f"user name {username!r} belongs to account {taken.id}",
                hint="user names are never reused, even of deactivated accounts; choose another",
            )
        if (badge is None) != (pin is None):
            raise UserError("a badge needs a PIN and a PIN needs a badge", hint="give both")
        if badge is not None and role is not Role.OPERATOR:
            raise UserError(
                f"badge log-in is for operators, not {role.value}",
                hint="other roles log in with their password",
            )
        self._check_password(password, username)
        if pin is not None:
            self._check_pin(pin)
        now = self._trail.now()
        user_id = insert_returning_id(
            conn,
            insert(UserRow).values(
                username=username,
                full_name=full_name,
                role=role.value,
                password_hash=self._hasher.hash(password),
                badge=badge,
                pin_hash=None if pin is None else self._hasher.hash(pin),
                failed_attempts=0,
                locked=False,
                active=True,
                must_change_password=actor is not None,
                password_changed_at=now,
                created_at=now,
            ),
        )
        self._audit(
            conn,
            actor,
            "user_created",
            user_id,
            action="create",
            new={"username": username, "full_name": full_name, "role": role.value, "badge": badge},
        )
        return user_id

    def reset_password(self, actor: Session, user_id: int, temporary: str, *, reason: str) -> None:
        """Set a temporary password; the user must change it at the next log-in. Unlocks."""
        self._require_admin(actor)
        with self._engine.begin() as conn:
            user = self._row(conn, user_id)
            self._check_password(temporary, user.username)
            conn.execute(
                update(UserRow)
                .where(UserRow.id == user_id)
                .values(
                    password_hash=self._hasher.hash(temporary),
                    must_change_password=True,
                    failed_attempts=0,
                    locked=False,
                    password_changed_at=self._trail.now(),
                )
            )
            self._audit(
                conn,
                actor,
                "password_reset",
                user_id,
                action="modify",
                old={"locked": user.locked},
                new={"must_change_password": True, "locked": False},
                reason=reason,
            )

    def unlock(self, actor: Session, user_id: int, *, reason: str) -> None:
        self._require_admin(actor)
        with self._engine.begin() as conn:
            self._row(conn, user_id)
            conn.execute(
                update(UserRow).where(UserRow.id == user_id).values(locked=False, failed_attempts=0)
            )
            self._audit(
                conn,
                actor,
                "account_unlocked",
                user_id,
                action="modify",
                old={"locked": True},
                new={"locked": False},
                reason=reason,
            )

    def set_badge(self, actor: Session, user_id: int, badge: str, pin: str, *, reason: str) -> None:
        """Give an operator a (new) badge and PIN for badge log-in. The PIN is stored hashed
        and never audited; the badge is, with the one it replaces."""
        self._require_admin(actor)
        badge = badge.strip()
        if not badge or len(badge) > 64:
            raise UserError(
                f"badge {badge!r} is not valid", hint="scan or type the badge's 1-64 characters"
            )
        with self._engine.begin() as conn:
            user = self._row(conn, user_id)
            if Role(user.role) is not Role.OPERATOR:
                raise UserError(
                    f"badge log-in is for operators, not {user.role} ({user.username})",
                    hint="other roles log in with their password",
                )
            holder = conn.execute(
                select(UserRow.id, UserRow.username).where(
                    UserRow.badge == badge, UserRow.id != user_id
                )
            ).first()
            if holder is not None:
                raise UserError(
                    f"badge {badge!r} belongs to {holder.username} (account {holder.id})",
                    hint="a badge identifies one person; use another badge",
                )
            self._check_pin(pin)
            conn.execute(
                update(UserRow)
                .where(UserRow.id == user_id)
                .values(badge=badge, pin_hash=self._hasher.hash(pin))
            )
            self._audit(
                conn,
                actor,
                "badge_set",
                user_id,
                action="modify",
                old={"badge": user.badge},
                new={"badge": badge, "pin": "set"},
                reason=reason,
            )

    def deactivate(self, actor: Session, user_id: int, *, reason: str) -> None:
        """Accounts are deactivated, never deleted: their id and name stay taken for ever."""
        self._require_admin(actor)
        if actor.user_id == user_id:
            raise PermissionDeniedError(
                "an administrator cannot deactivate their own account",
                hint="ask another administrator",
            )
        with self._engine.begin() as conn:
            self._row(conn, user_id)
            conn.execute(update(UserRow).where(UserRow.id == user_id).values(active=False))
            self._audit(
                conn,
                actor,
                "user_deactivated",
                user_id,
                action="modify",
                old={"active": True},
                new={"active": False},
                reason=reason,
            )
        for token, session in list(self._sessions.items()):
            if session.user_id == user_id:
                del self._sessions[token]

    def get(self, user_id: int) -> UserInfo:
        with self._engine.connect() as conn:
            return _info(self._row(conn, user_id))

    def accounts(self) -> list[UserInfo]:
        with self._engine.connect() as conn:
            return [_info(row) for row in conn.execute(select(UserRow).order_by(UserRow.id))]

    # --- log-in and sessions --------------------------------------------------------------

    def login(self, username: str, password: str) -> Session:
        with self._engine.begin() as conn:
            row = conn.execute(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            self._trail.append(
                [
                    AuditEvent(
                        "login_failed",
                        "user",
                        username,
                        action="access",
                        new={"reason": "unknown user"},
                    )
                ]
            )
            raise AuthenticationError("wrong user name or password")
        self._authenticate(row, password, row.password_hash, "password")
        return self._open_session(row, via_badge=False)

    def login_badge(self, badge: str, pin: str) -> Session:
        """Operators only: badge + PIN. A PIN never suffices for a signature."""
        with self._engine.begin() as conn:
            row = conn.execute(select(UserRow).where(UserRow.badge == badge)).first()
        if row is None or row.pin_hash is None or Role(row.role) is not Role.OPERATOR:
            self._trail.append(
                [
                    AuditEvent(
                        "login_failed", "badge", badge, action="access", new={"reason": "unknown"}
                    )
                ]
            )
            raise AuthenticationError("unknown badge or wrong PIN")
        self._authenticate(row, pin, row.pin_hash, "badge")
        return self._open_session(row, via_badge=True)

    def change_password(self, username: str, old: str, new: str) -> None:
        """The user's own change; needed after a reset and when the password has aged."""
        with self._engine.begin() as conn:
            row = conn.execute(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            raise AuthenticationError("wrong user name or password")
        self._authenticate(row, old, row.password_hash, "password", for_change=True)
        if old == new:
            raise PasswordPolicyError(
                "the new password is the old one", hint="choose a different password"
            )
        self._check_password(new, username)
        with self._engine.begin() as conn:
            conn.execute(
                update(UserRow)
                .where(UserRow.id == row.id)
                .values(
                    password_hash=self._hasher.hash(new),
                    must_change_password=False,
                    password_changed_at=self._trail.now(),
                )
            )
            self._audit(
                conn,
                _as_session(row, self._trail.now()),
                "password_changed",
                row.id,
                action="modify",
                reason="changed by the user",
            )

    def touch(self, session: Session) -> Session:
        """The session, still valid, with its activity time renewed; or SessionExpiredError."""
        current = self._sessions.get(session.token)
        now = self._trail.now()
        if current is None:
            raise SessionExpiredError("the session has ended", hint="log in again")
        if now - current.last_active > self.policy.session_timeout:
            del self._sessions[session.token]
            self._trail.append(
                [
                    AuditEvent(
                        "session_timed_out",
                        "user",
                        str(current.user_id),
                        action="access",
                        user_id=current.user_id,
                        username=current.username,
                    )
                ]
            )
            raise SessionExpiredError(
                f"the session of {current.username} timed out after "
                f"{self.policy.session_timeout} without activity",
                hint="log in again",
            )
        renewed = replace(current, last_active=now)
        self._sessions[session.token] = renewed
        return renewed

    def mark_signed(self, session: Session) -> Session:
        renewed = replace(self.touch(session), signed=True)
        self._sessions[session.token] = renewed
        return renewed

    def logout(self, session: Session) -> None:
        if self._sessions.pop(session.token, None) is not None:
            self._trail.append(
                [
                    AuditEvent(
                        "logout",
                        "user",
                        str(session.user_id),
                        action="access",
                        user_id=session.user_id,
                        username=session.username,
                    )
                ]
            )

    def check_password(self, user_id: int, password: str) -> None:
        """Re-authentication for a signature: counts failures and locks like a log-in."""
        with self._engine.connect() as conn:
            row = self._row(conn, user_id)
        self._authenticate(row, password, row.password_hash, "signature")

    # --- internals ------------------------------------------------------------------------

    def _authenticate(
        self, row: Any, secret: str, stored: str, how: str, *, for_change: bool = False
    ) -> None:
        subject = {"user_id": row.id, "username": row.username}
        if not row.active:
            self._log_access("login_refused", row, {"reason": "deactivated", "via": how})
            raise AuthenticationError(
                f"account {row.username!r} is deactivated", hint="ask an administrator"
            )
        if row.locked:
            self._log_access("login_refused", row, {"reason": "locked", "via": how})
            raise AccountLockedError(
                f"account {row.username!r} is locked after repeated failed attempts",
                hint="an administrator must unlock it or reset the password",
            )
        try:
            self._hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            self._failed(row, how, subject)
        if row.failed_attempts:
            with self._engine.begin() as conn:
                conn.execute(update(UserRow).where(UserRow.id == row.id).values(failed_attempts=0))
        if for_change or how == "signature":
            return
        aged = self._trail.now() - _aware(row.password_changed_at) > self.policy.password_max_age
        if row.must_change_password or (aged and how == "password"):
            self._log_access("login_refused", row, {"reason": "password change required"})
            raise PasswordChangeRequiredError(
                f"{row.username} must change the password before working "
                f"({'it was set by an administrator' if row.must_change_password else 'expired'})",
                hint="change it with your current password",
            )

    def _failed(self, row: Any, how: str, subject: dict[str, Any]) -> None:
        with self._engine.begin() as conn:
            self._trail.record(conn, [])  # serialises concurrent failures of one account
            stored = select(UserRow.failed_attempts).where(UserRow.id == row.id)
            attempts = int(conn.execute(stored).scalar_one()) + 1
            lock = attempts >= self.policy.max_failures
            conn.execute(
                update(UserRow)
                .where(UserRow.id == row.id)
                .values(failed_attempts=attempts, locked=lock)
            )
            events = [
                AuditEvent(
                    "login_failed",
                    "user",
                    str(row.id),
                    action="access",
                    new={"via": how, "attempt": attempts},
                    user_id=row.id,
                    username=row.username,
                )
            ]
            if lock:
                events.append(
                    AuditEvent(
                        "account_locked",
                        "user",
                        str(row.id),
                        action="modify",
                        old={"locked": False},
                        new={"locked": True},
                        reason=f"{attempts} failed attempts in a row",
                        user_id=row.id,
                        username=row.username,
                    )
                )
            self._trail.record(conn, events)
        if lock:
            self._on_alarm("account_locked", {**subject, "attempts": attempts})
            raise AccountLockedError(
                f"account {row.username!r} is now locked after {attempts} failed attempts",
                hint="an administrator must unlock it or reset the password",
            )
        raise AuthenticationError("wrong user name or password")

    def _open_session(self, row: Any, *, via_badge: bool) -> Session:
        now = self._trail.now()
        session = replace(_as_session(row, now), token=secrets.token_hex(16), via_badge=via_badge)
        self._sessions[session.token] = session
        self._log_access("login", row, {"via": "badge" if via_badge else "password"})
        return session

    def _log_access(self, event: str, row: Any, details: dict[str, Any]) -> None:
        self._trail.append(
            [
                AuditEvent(
                    event,
                    "user",
                    str(row.id),
                    action="access",
                    new=details,
                    user_id=row.id,
                    username=row.username,
                )
            ]
        )

    def _require_admin(self, actor: Session) -> None:
        actor = self.touch(actor)
        if actor.role is not Role.ADMINISTRATOR:
            raise PermissionDeniedError(
                f"{actor.username} ({actor.role.value}) may not manage accounts",
                hint="account management is for administrators only",
            )

    def _row(self, conn: Connection, user_id: int) -> Any:
        row = conn.execute(select(UserRow).where(UserRow.id == user_id)).first()
        if row is None:
            raise NotFoundError(f"no user with id {user_id}", hint="list users to find the id")
        return row

    def _audit(
        self,
        conn: Connection,
        actor: Session | None,
        event: str,
        user_id: int,
        *,
        action: str,
        old: Any = None,
        new: Any = None,
        reason: str | None = None,
    ) -> None:
        self._trail.record(
            conn,
            [
                AuditEvent(
                    event,
                    "user",
                    str(user_id),
                    action=action,
                    old=old,
                    new=new,
                    reason=reason,
                    user_id=None if actor is None else actor.user_id,
                    username=None if actor is None else actor.username,
                )
            ],
        )

    def _check_password(self, password: str, username: str) -> None:
        problems = []
        if len(password) < self.policy.min_password_length:
            problems.append(f"at least {self.policy.min_password_length} characters")
        if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
            problems.append("letters and digits")
        if username.lower() in password.lower():
            problems.append("not containing the user name")
        if problems:
            raise PasswordPolicyError(
                "the password does not meet the policy",
                hint="a password needs " + ", ".join(problems),
            )

    def _check_pin(self, pin: str) -> None:
        if not pin.isdigit() or len(pin) < self.policy.min_pin_length or len(set(pin)) == 1:
            raise PasswordPolicyError(
                "the PIN does not meet the policy",
                hint=f"at least {self.policy.min_pin_length} digits, not all the same",
            )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as_session(row: Any, now: datetime) -> Session:
    return Session("", row.id, row.username, row.full_name, Role(row.role), now, now)


def _info(row: Any) -> UserInfo:
    return UserInfo(
        row.id,
        row.username,
        row.full_name,
        Role(row.role),
        row.active,
        row.locked,
        row.must_change_password,
    )
