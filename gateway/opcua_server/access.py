"""Who is calling, and what they may do: gateway accounts (`ebr.users`) over OPC UA.

A session logs on with the user name and password of a gateway account (`Users.login`, so
failures count and lock the account like any log-in, and every log-in is in the audit trail).
Anonymous sessions exist only when the site file allows them.

- Reading — browse, read, subscribe, GetRecords, GetBatchRecord, GetAggregation, TraceCode — is
  open to every session.
- Methods that change something (Acknowledge, DownloadOrder, UpdateProduct) need an account
  whose role is in `WRITE_ROLES`: supervisor or engineer. The MES's account is an engineer
  account; operators, QA and administrators (who hold no GMP rights) cannot.
- Adding or deleting nodes is refused to everyone.

asyncua hands a method callback no session, so the permission check that runs before every
request (`GatewayPermissions.check_validity`, same task as the call) records the caller in a
context variable, read back by `current_caller()`.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final

from asyncua import ua
from asyncua.crypto.permission_rules import USER_TYPES, SimpleRoleRuleset, User, UserRole
from asyncua.server.user_managers import UserManager

from ebr.users import Role, UserError, Users

log = logging.getLogger("tracegate.opcua_server.access")

WRITE_ROLES: Final = frozenset({Role.SUPERVISOR, Role.ENGINEER})


@dataclass(frozen=True, slots=True)
class Caller:
    username: str | None
    """None for an anonymous session."""
    user_id: int | None = None
    role: Role | None = None

    @property
    def may_write(self) -> bool:
        return self.role in WRITE_ROLES

    def describe(self) -> str:
        if self.username is None:
            return "an anonymous session"
        return f"{self.username} ({self.role.value if self.role else 'no role'})"


ANONYMOUS: Final = Caller(None)


@dataclass
class GatewayUser(User):
    """asyncua's user of a session, carrying the gateway account behind it."""

    caller: Caller = field(default=ANONYMOUS)


_CALLER: ContextVar[Caller | None] = ContextVar("tracegate_opcua_caller", default=None)


def current_caller() -> Caller | None:
    """The caller of the request being served; None outside a client request."""
    return _CALLER.get()


class GatewayUsers(UserManager):
    """Logs sessions on with gateway accounts.

    `Users.login` hashes with argon2 and writes the audit trail, synchronously: asyncua asks
    for the user inside its ActivateSession handling, which is not a coroutine. A log-on thus
    holds the event loop for one password check (tens of milliseconds); an MES logs on once per
    session, not per call.
    """

    def __init__(self, users: Users, *, allow_anonymous: bool) -> None:
        self._users = users
        self._allow_anonymous = allow_anonymous

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is None:
            if self._allow_anonymous:
                return GatewayUser(role=UserRole.User, name=None, caller=ANONYMOUS)
            log.warning("anonymous session refused: the site file does not allow anonymous")
            return None
        try:
            session = self._users.login(username, password or "")
        except UserError as error:
            log.warning("OPC UA log-on of %r refused: %s", username, error)
            return None
        caller = Caller(session.username, session.user_id, session.role)
        return GatewayUser(role=UserRole.User, name=session.username, caller=caller)


class GatewayPermissions(SimpleRoleRuleset):
    """Every ordinary service for logged-on sessions, no node management for anyone; records
    the caller for the method callbacks."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._allowed = frozenset(ua.NodeId(ua.Int32(type_id)) for type_id in USER_TYPES)

    def check_validity(self, user: Any, action_type: Any, body: Any) -> bool:
        caller = user.caller if isinstance(user, GatewayUser) else None
        _CALLER.set(caller)
        return caller is not None and action_type in self._allowed
