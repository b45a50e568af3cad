"""A site with an administrator and a settable clock, for the users and signature tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from ebr.audit.trail import AuditTrail
from ebr.users import Role, SecurityPolicy, Users
from tests.ebr.audit.audit_fixtures import FAST_HASHER, Clock, make_trail

ADMIN_PW = "Site-Passw0rd-12"
INITIAL = "Initial-Passw0rd-9"
OWN = "My-Own-Passw0rd-7"


class Site:
    def __init__(self, engine: Engine) -> None:
        self.clock = Clock()
        self.trail: AuditTrail = make_trail(engine, clock=self.clock)
        self.alarms: list[tuple[str, dict[str, Any]]] = []
        self.users = Users(
            self.trail,
            policy=SecurityPolicy(max_failures=3),
            hasher=FAST_HASHER,
            on_alarm=lambda kind, details: self.alarms.append((kind, details)),
        )
        self.users.bootstrap_administrator("admin", "Site Administrator", ADMIN_PW)
        self.admin = self.users.login("admin", ADMIN_PW)

    def add(self, username: str, role: Role = Role.OPERATOR, **extra: Any) -> int:
        user_id = self.users.create(
            self.admin,
            username=username,
            full_name=username.title(),
            role=role,
            password=INITIAL,
            **extra,
        )
        self.users.change_password(username, INITIAL, OWN)
        return user_id

    def events(self, event: str) -> list[str]:
        return [e.object_id for e in self.trail.entries(event=event)]
