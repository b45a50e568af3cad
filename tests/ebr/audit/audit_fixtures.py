"""Helpers for the audit tests: a trail with a site key, a settable clock, and a way to change
the database behind the triggers' back, as a database superuser could."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, text

from ebr.audit.checkpoints import SiteKey
from ebr.audit.trail import AuditEvent, AuditTrail

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""argon2id still, with test-sized costs."""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def new_site_key() -> SiteKey:
    return SiteKey.from_private(Ed25519PrivateKey.generate())


def make_trail(engine: Engine, *, every: int = 5, clock: Clock | None = None) -> AuditTrail:
    return AuditTrail(
        engine, site_key=new_site_key(), checkpoint_every=every, clock=clock or Clock()
    )


def fill(trail: AuditTrail, count: int, *, batch: int = 4) -> None:
    done = 0
    while done < count:
        size = min(batch, count - done)
        trail.append(
            [
                AuditEvent(
                    "batch_created",
                    "batch",
                    str(done + i),
                    action="create",
                    new={"lot": f"L{done + i}", "qty": done + i},
                    user_id=7,
                    username="alice",
                )
                for i in range(size)
            ]
        )
        done += size


@contextmanager
def behind_the_triggers(engine: Engine) -> Iterator[Connection]:
    """A transaction in which the append-only triggers do not fire.

    PostgreSQL: `session_replication_role = replica` (superuser only). SQLite has no such
    switch: the triggers are dropped, the change made, and the triggers put back, in one
    transaction, so no trace of their absence remains.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            yield conn
            return
        triggers = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _sql in triggers:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
        yield conn
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)
