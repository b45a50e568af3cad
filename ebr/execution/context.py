"""What every part of the executed record works with: the database, its audit trail (the
clock and the append lock), the signatures, the accounts and the production journal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from ebr.audit.actor import Actor
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.journal import Journal
from ebr.signatures import ESignatures
from ebr.users import Session, Users

Who = Actor | Session
"""Who records: a logged-in person, or an actor such as the gateway for the line's values."""


def actor_of(who: Who) -> Actor:
    if isinstance(who, Session):
        return Actor(user_id=who.user_id, username=who.username)
    return who


@dataclass(frozen=True, slots=True)
class Context:
    engine: Engine
    trail: AuditTrail
    signatures: ESignatures
    users: Users
    journal: Journal

    def now(self) -> datetime:
        return self.trail.now()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A transaction that holds the audit trail's append lock from its start, so that
        checks made in it still hold when it commits."""
        with self.engine.begin() as conn:
            self.trail.record(conn, [])
            yield conn

    def refuse(self, event: AuditEvent) -> None:
        """Record a refused attempt in a transaction of its own."""
        self.trail.append([event])
